#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>

namespace tickgate {

/// The node's maintenance mode. While it is on, new WebSocket handshakes are
/// refused with 503 and Retry-After and /ready answers 503, so load balancers
/// drain the node; open connections stay and were told (the inspector
/// broadcasts the notice). The inspector switches it (tickgatectl
/// maintenance, admin.command, POST /admin/maintenance); every handshake
/// path reads it (net/admission.hpp: maintenance_refusal). Thread-safe.
class maintenance_mode {
public:
  /// Retry-After when the operator named none, in seconds.
  static constexpr uint32_t default_retry_after_s = 30;

  struct state {
    bool on = false;
    std::string message;        // why, for clients and load balancers
    uint32_t retry_after_s = 0; // when clients may try again
    int64_t since_ms = 0;       // Unix time it was switched on
  };

  /// One relaxed-cost load: the handshake paths ask this first.
  bool on() const { return on_.load(std::memory_order_acquire); }

  state current() const;

  /// Switches it on (or updates message and Retry-After while on).
  void enter(std::string message, uint32_t retry_after_s, int64_t now_ms);
  void leave();

  /// {"on":true,"message":"...","retry_after":30,"since_ms":...} or {"on":false}.
  std::string to_json() const;

private:
  std::atomic<bool> on_{false};
  mutable std::mutex mtx_;
  state state_; // guarded by mtx_
};

} // namespace tickgate
