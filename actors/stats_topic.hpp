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

/// Topics $sys:stats lists, busiest first.
constexpr size_t stats_topic_top = 10;

/// The members of $sys:stats that come from asking actors for their stats:
/// JSON arrays, refreshed when the inspector samples them (every 5 s), not
/// for every event.
struct stats_listing {
  std::string topics = "[]"; // the busiest topics
  std::string feeds = "[]";
};

/// The listing from every live topic's and feed actor's entry (`rates`: the
/// events/s of each of `topics`; system topics are left out): the
/// stats_topic_top topics with the most subscribers, then the highest rate
/// (name, subscribers, events_per_s, seq, epoch, retained, retained_bytes),
/// and the feeds by name (name, link, topics).
stats_listing make_listing(const std::vector<actor_stats>& topics, const std::vector<double>& rates,
                           std::vector<actor_stats> feeds);

/// The $sys:stats event's data: {"node", "ts_ms", "uptime_ms", "stats" (the
/// /api/stats groups, read now), "topics" and "feeds" (from `listing`),
/// "maintenance" (maintenance_mode::to_json(), or off)}.
std::string stats_payload(const metrics& m, std::string_view node_id, int64_t ts_ms,
                          int64_t uptime_ms, const stats_listing& listing,
                          std::string_view maintenance_json);

} // namespace tickgate
