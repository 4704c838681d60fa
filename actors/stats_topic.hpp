#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "actors/vocabulary.hpp"

namespace tickgate {

struct metrics;

/// Events per second of each topic between two samples of the topics'
/// publication counters (actor_stats::msgs_in), keyed by topic name. A topic
/// seen for the first time, or restarted (its counter went back), counts from
/// zero.
class topic_rates {
public:
  using clock = std::chrono::steady_clock;

  /// The rate of each of `topics` since the previous call, in their order;
  /// forgets topics no longer listed.
  std::vector<double> update(const std::vector<actor_stats>& topics, clock::time_point now);

private:
  std::unordered_map<std::string, uint64_t> last_;
  clock::time_point last_at_{};
};

/// What one $sys:stats event says besides the metrics.
struct stats_sample {
  std::string_view node_id;
  int64_t ts_ms = 0;     // when it was taken, ms since the Unix epoch
  int64_t uptime_ms = 0;
  std::vector<actor_stats> topics; // every live topic (system topics are left out)
  std::vector<double> rates;       // events/s of each of `topics`
  std::vector<actor_stats> feeds;  // the feed actors' entries
  std::string maintenance_json;    // maintenance_mode::to_json()
};

/// Topics $sys:stats lists, busiest first.
constexpr size_t stats_topic_top = 10;

/// The $sys:stats event's data: {"node", "ts_ms", "uptime_ms", "stats" (the
/// /api/stats groups), "topics" (the stats_topic_top topics with the most
/// subscribers, then the highest rate: name, subscribers, events_per_s, seq,
/// epoch, retained, retained_bytes), "feeds" (name, link, topics),
/// "maintenance"}.
std::string stats_payload(const metrics& m, stats_sample sample);

} // namespace tickgate
