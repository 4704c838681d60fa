#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proto/native_codec.hpp"

namespace tickgate {

/// What one client frame turned into.
struct decoder_output {
  std::vector<decoded_frame> frames; // for the connection actor, in order
  std::vector<std::string> replies;  // text frames the session sends itself, first
  bool pong = false;                 // the client answered a heartbeat (Engine.IO "3")
  bool close = false;                // the client asked to close (Engine.IO "1") or broke framing
};

/// Per-connection decoding state for one dialect (Socket.IO keeps its
/// namespaces here; the root path detects the dialect from the first frame).
class frame_decoder {
public:
  virtual ~frame_decoder() = default;

  /// Text frames to send as soon as the WebSocket is open.
  virtual std::vector<std::string> on_open() { return {}; }

  virtual decoder_output decode(std::string_view bytes, bool binary) = 0;

  /// A text frame to send every ping interval instead of relying on
  /// WebSocket pings alone (Engine.IO "2"); nullopt for most dialects.
  virtual std::optional<std::string> heartbeat() { return std::nullopt; }
};

struct decoder_options {
  std::string session_id;            // Engine.IO sid, typed-envelope clientId
  std::optional<wire_format> forced; // native: subprotocol-chosen reply format
  int64_t ping_interval_ms = 25000;
  int64_t ping_timeout_ms = 20000;
  size_t max_payload = 65536;
  // Socket.IO: the session opened over HTTP long-polling and may upgrade to
  // a WebSocket (the open packet lists "websocket" in its upgrades).
  bool upgradable = false;
};

/// "native", "action", "stream", "typed", "socketio", or "auto" (detect from
/// the first frame: op -> native, action -> action, method -> stream,
/// type -> typed, binary -> native protobuf). nullptr for an unknown name.
std::unique_ptr<frame_decoder> make_frame_decoder(std::string_view dialect_name,
                                                  decoder_options options);

bool is_known_dialect(std::string_view dialect_name);

} // namespace tickgate
