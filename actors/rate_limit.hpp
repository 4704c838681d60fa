#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "proto/wire_format.hpp"

namespace tickgate {

/// A token bucket: `rate` tokens per second up to `burst`. Starts full.
struct token_bucket {
  using clock = std::chrono::steady_clock;

  double rate = 0;  // tokens per second; 0: unlimited
  double burst = 0; // capacity
  double tokens = 0;
  clock::time_point refilled{};

  token_bucket() = default;
  token_bucket(double r, double b, clock::time_point now)
    : rate(r), burst(b), tokens(b), refilled(now) {
  }

  /// Takes one token if there is one.
  bool take(clock::time_point now);

  /// True once the bucket would be full again (nothing left to remember).
  bool full_at(clock::time_point now) const;
};

/// Messages per second a client may send, and how many at once.
struct rate_spec {
  double rate = 50;  // 0: unlimited
  double burst = 100;
};

/// Parses "rate[:burst]" (burst defaults to twice the rate).
std::optional<rate_spec> parse_rate_spec(std::string_view text);

/// What the connection actor enforces on a client's inbound messages
/// (configs/tickgate.ini [protection] documents each).
struct inbound_settings {
  rate_spec standard;
  // Per dialect ("action") or Socket.IO namespace ("socketio/market"); the
  // most specific key wins.
  std::vector<std::pair<std::string, rate_spec>> overrides;
  size_t abuse_drops = 500;                     // this many drops within abuse_window close 1008; 0: never
  std::chrono::milliseconds abuse_window{10000};
  std::chrono::milliseconds notice_interval{1000}; // at most one rate_limited frame per interval
  std::chrono::milliseconds idle_timeout{0};    // close connections that never subscribe; 0: off
};

/// One connection's inbound limit: a bucket per dialect and Socket.IO
/// namespace the client speaks (almost always one), and the abuse window.
class inbound_limiter {
public:
  using clock = std::chrono::steady_clock;

  enum class verdict : uint8_t {
    pass,          // handle the message
    drop_notify,   // drop it and tell the client (rate_limited)
    drop_silently, // drop it; the client was told within notice_interval
    close,         // sustained abuse: close the connection
  };

  explicit inbound_limiter(const inbound_settings* settings) : settings_(settings) {
  }

  verdict admit(const wire_format& f, clock::time_point now);

  uint64_t dropped() const { return dropped_; }

private:
  const rate_spec& spec_for(const wire_format& f) const;

  const inbound_settings* settings_;
  std::vector<std::pair<uint32_t, token_bucket>> buckets_; // (dialect | ns << 8) -> bucket
  clock::time_point window_start_{};
  size_t window_drops_ = 0;
  std::optional<clock::time_point> last_notice_;
  uint64_t dropped_ = 0;
};

} // namespace tickgate
