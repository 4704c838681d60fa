#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>

namespace tickgate {

/// When the node raises an alert (admin.alert to the /admin namespace, and
/// a warning in the log).
struct alert_settings {
  // A slow-consumer storm: this many slow-consumer closes within `storm_window`.
  size_t storm_closes = 10;
  std::chrono::milliseconds storm_window{10000};
  // History evictions by history.max-bytes: at most one alert per interval,
  // counting every eviction since the previous one.
  std::chrono::milliseconds eviction_interval{60000};
};

/// One alert: level info, warning or critical; kind feed_down, feed_up,
/// slow_consumer_storm or history_evictions.
struct admin_alert {
  std::string level;
  std::string kind;
  std::string message;
  int64_t ts_ms = 0; // Unix time, set by whoever raises it

  /// {"level":...,"kind":...,"message":...,"ts":...}
  std::string to_json() const;
};

/// Decides which of the node's recurring conditions become alerts, against
/// an injected clock (plain code; the inspector owns one).
class alert_watch {
public:
  using clock = std::chrono::steady_clock;

  explicit alert_watch(alert_settings settings = {}) : settings_(settings) {}

  /// A slow-consumer close at `now`: an alert when it completes a storm,
  /// at most one per window while the storm lasts.
  std::optional<admin_alert> slow_close(clock::time_point now);

  /// The node's count of events evicted by history.max-bytes, read at `now`:
  /// an alert when it grew since the last alert (the first reading only sets
  /// the baseline), at most one per eviction_interval.
  std::optional<admin_alert> evictions(uint64_t total, clock::time_point now);

  /// A feed went down or came back.
  static admin_alert feed_status(const std::string& feed, bool up, const std::string& reason);

private:
  alert_settings settings_;
  std::deque<clock::time_point> closes_; // within the window; at most storm_closes
  std::optional<clock::time_point> storm_alerted_;
  std::optional<uint64_t> evictions_seen_; // the count the last alert (or baseline) covered
  std::optional<clock::time_point> eviction_alerted_;
};

} // namespace tickgate
