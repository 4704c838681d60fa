#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace tickgate {

/// Encoded bytes of one WebSocket message, shared by every subscriber that
/// receives them. Immutable once built.
struct frame {
  std::shared_ptr<const std::string> bytes;
  bool binary = false;
  int64_t ts_us = 0; // events: publish acceptance time, for the publish-to-write latency
};

inline frame make_frame(std::string bytes, bool binary) {
  return frame{std::make_shared<const std::string>(std::move(bytes)), binary};
}

/// What a session reports about its client (tickgatectl connections).
struct sink_stats {
  std::string addr;        // peer address:port
  std::string dialect;     // of the listener path
  uint64_t queued_frames = 0;
  uint64_t queued_bytes = 0;
  uint64_t frames_out = 0; // written to the socket
  uint64_t bytes_out = 0;
  int64_t last_in_us = 0;  // last client frame (0: none yet)
};

enum class send_result : uint8_t {
  queued,   // the frame will be written
  closed,   // the session is closed or closing; the frame was discarded
  overflow, // the outbound queue limit was hit: the session now closes as a slow consumer
};

/// The only way actors reach a client socket. Implemented by net/ (one per
/// WebSocket session) and by fakes in tests. Every member is thread-safe and
/// never blocks on I/O.
class session_sink {
public:
  virtual ~session_sink() = default;

  /// Queues `f` behind the frames already queued for this client.
  virtual send_result send(const frame& f) = 0;

  /// Starts a close handshake with `code` and `reason`; later sends are discarded.
  virtual void close(uint16_t code, std::string_view reason) = 0;

  virtual sink_stats stats() const { return {}; }
};

using session_sink_ptr = std::shared_ptr<session_sink>;


} // namespace tickgate
