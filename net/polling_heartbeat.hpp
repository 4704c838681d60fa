#pragma once

#include <chrono>
#include <cstdint>

namespace tickgate::net {

/// Engine.IO's liveness rule for a session carried by HTTP long-polling:
/// pingInterval after the open (or after the client's last pong) the server
/// queues a ping, and the client's pong must come within pingTimeout of it,
/// else the session is closed. A client that stops polling never receives
/// the ping, so it is closed at most pingInterval + pingTimeout after its
/// last pong. The clock is the caller's, so tests drive it.
class polling_heartbeat {
public:
  using clock = std::chrono::steady_clock;
  enum class due : uint8_t {
    nothing,
    ping,    // queue a ping now; its pong is due within the timeout
    timeout, // the pong did not come: close the session
  };

  polling_heartbeat(clock::duration interval, clock::duration timeout, clock::time_point now)
    : interval_(interval), timeout_(timeout), deadline_(now + interval) {
  }

  due tick(clock::time_point now) {
    if (now < deadline_)
      return due::nothing;
    if (awaiting_pong_)
      return due::timeout;
    awaiting_pong_ = true;
    deadline_ = now + timeout_;
    return due::ping;
  }

  /// The client answered; a pong nobody asked for changes nothing.
  void on_pong(clock::time_point now) {
    if (!awaiting_pong_)
      return;
    awaiting_pong_ = false;
    deadline_ = now + interval_;
  }

private:
  clock::duration interval_;
  clock::duration timeout_;
  clock::time_point deadline_; // of the next ping, or of the pong while awaiting_pong_
  bool awaiting_pong_ = false;
};

} // namespace tickgate::net
