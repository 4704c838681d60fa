#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "actors/rate_limit.hpp"

namespace tickgate::net {

/// Who may open a WebSocket (configs/tickgate.ini [protection]).
struct admission_settings {
  // Origin header values allowed at the handshake ("https://app.example.com",
  // "https://*.example.com", or "*"). Empty: every origin. A handshake without
  // an Origin header (not a browser) is always allowed.
  std::vector<std::string> allowed_origins;
  size_t max_connections = 100000;   // open WebSockets on this node; 0: no cap
  size_t max_connections_per_ip = 0; // 0: no cap (tests and benchmarks connect thousands from 127.0.0.1)
  rate_spec handshake_rate{0, 0};    // per IP, handshakes per second; rate 0: no limit
  size_t max_tracked_ips = 100000;   // bound on the per-IP table (idle entries are forgotten first)
};

/// Why a handshake was refused.
enum class refusal : uint8_t { none, origin, full, ip_cap, ip_rate };

/// The handshake gate: origin allow-list, global and per-IP connection caps,
/// per-IP handshake rate. Thread-safe (every I/O thread asks it).
///
/// A granted admission is a ticket: the session holds it until the
/// connection ends, and dropping it gives the slot back. Tickets keep the
/// gate alive, so they may outlive whoever created it.
///
/// Memory: one entry per IP that holds a connection or whose handshake
/// bucket is still refilling; entries with neither are forgotten on the next
/// sweep, and the table never exceeds max_tracked_ips (when it would, idle
/// entries go first, then the refusal is for the new IP).
class admission : public std::enable_shared_from_this<admission> {
public:
  using clock = std::chrono::steady_clock;

  struct decision {
    refusal reason = refusal::none;
    std::shared_ptr<void> ticket; // set when admitted
    unsigned status = 200;        // HTTP status of a refusal
    std::string message;          // body text of a refusal
  };

  explicit admission(admission_settings settings);

  /// Decides on a handshake from `ip` carrying `origin` (empty: no header).
  decision admit(const std::string& ip, std::string_view origin,
                 clock::time_point now = clock::now());

  bool origin_allowed(std::string_view origin) const;

  size_t open() const;           // tickets outstanding
  size_t tracked_ips() const;    // entries in the per-IP table

private:
  struct ip_entry {
    size_t open = 0;
    token_bucket handshakes;
  };

  // The ticket: keeps the gate alive and gives the slot back when dropped.
  // It points at its IP's entry (null: no per-IP bookkeeping), which stays
  // in the table while it counts an open connection, and elements of an
  // unordered_map do not move: a pointer instead of a copy of the address,
  // kept once per open connection.
  struct slot {
    std::shared_ptr<admission> gate;
    ip_entry* ip;
    slot(std::shared_ptr<admission> g, ip_entry* i) : gate(std::move(g)), ip(i) {
    }
    ~slot() { gate->release(ip); }
  };

  void release(ip_entry* ip);
  void sweep(clock::time_point now); // mtx_ held

  const admission_settings settings_;
  mutable std::mutex mtx_;
  size_t open_ = 0;                                 // guarded by mtx_
  std::unordered_map<std::string, ip_entry> ips_;   // guarded by mtx_
  clock::time_point last_sweep_{};                  // guarded by mtx_
};

/// Counts a refusal in the node's metrics.
void count_refusal(refusal r);

} // namespace tickgate::net
