#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "actors/session_sink.hpp"

namespace tickgate::test {

/// An in-memory session: records every frame an actor sends, so actor logic
/// is tested without sockets.
class fake_sink : public session_sink {
public:
  send_result send(frame f) override;
  void close(uint16_t code, std::string_view reason) override;

  /// Waits until at least `n` frames arrived; false on timeout.
  bool wait_for_frames(size_t n, std::chrono::milliseconds timeout
                                 = std::chrono::milliseconds(5000));

  /// Frames received so far, as strings (JSON text or protobuf bytes).
  std::vector<std::string> frames() const;
  std::vector<bool> binary_flags() const;
  size_t count() const;

  std::optional<uint16_t> close_code() const;

private:
  mutable std::mutex mtx_;
  std::condition_variable cv_;
  std::vector<frame> frames_;
  std::optional<uint16_t> close_code_;
};

} // namespace tickgate::test
