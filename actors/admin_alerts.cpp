#include "actors/admin_alerts.hpp"

#include "proto/json_writer.hpp"

namespace tickgate {

std::string admin_alert::to_json() const {
  std::string out;
  json_writer{out}
    .begin_object()
    .field("level", level)
    .field("kind", kind)
    .field("message", message)
    .field("ts", ts_ms)
    .end_object();
  return out;
}

std::optional<admin_alert> alert_watch::slow_close(clock::time_point now) {
  if (settings_.storm_closes == 0)
    return std::nullopt;
  closes_.push_back(now);
  while (!closes_.empty() && closes_.front() <= now - settings_.storm_window)
    closes_.pop_front();
  while (closes_.size() > settings_.storm_closes)
    closes_.pop_front();
  if (closes_.size() < settings_.storm_closes)
    return std::nullopt;
  if (storm_alerted_ && now < *storm_alerted_ + settings_.storm_window)
    return std::nullopt; // this storm was reported within the window
  storm_alerted_ = now;
  auto secs = std::chrono::duration<double>(settings_.storm_window).count();
  char window[32];
  std::snprintf(window, sizeof window, "%g", secs);
  return admin_alert{"warning", "slow_consumer_storm",
                     std::to_string(settings_.storm_closes) + " slow-consumer disconnects within "
                       + window + " s",
                     0};
}

std::optional<admin_alert> alert_watch::evictions(uint64_t total, clock::time_point now) {
  if (!evictions_seen_) {
    evictions_seen_ = total;
    return std::nullopt;
  }
  if (total <= *evictions_seen_)
    return std::nullopt;
  if (eviction_alerted_ && now < *eviction_alerted_ + settings_.eviction_interval)
    return std::nullopt; // counted in the next alert
  auto evicted = total - *evictions_seen_;
  evictions_seen_ = total;
  eviction_alerted_ = now;
  return admin_alert{"warning", "history_evictions",
                     std::to_string(evicted)
                       + " retained events evicted to keep history under history.max-bytes",
                     0};
}

admin_alert alert_watch::feed_status(const std::string& feed, bool up, const std::string& reason) {
  if (up)
    return admin_alert{"info", "feed_up", "feed " + feed + " is up again", 0};
  return admin_alert{"critical", "feed_down",
                     "feed " + feed + " is down" + (reason.empty() ? "" : ": " + reason), 0};
}

} // namespace tickgate
