#include "actors/stats_topic.hpp"

#include <algorithm>
#include <cmath>

#include "actors/metrics.hpp"
#include "proto/json_writer.hpp"
#include "proto/topic_name.hpp"

namespace tickgate {

namespace {

// An extra field's JSON text ("" when the actor has none by that name).
std::string_view extra(const actor_stats& s, std::string_view key) {
  for (auto& [k, v] : s.extra)
    if (k == key)
      return v;
  return {};
}

uint64_t extra_u64(const actor_stats& s, std::string_view key) {
  auto v = extra(s, key);
  uint64_t out = 0;
  for (char c : v) {
    if (c < '0' || c > '9')
      return 0;
    out = out * 10 + static_cast<uint64_t>(c - '0');
  }
  return out;
}

} // namespace

std::vector<double> topic_rates::update(const std::vector<actor_stats>& topics,
                                        clock::time_point now) {
  std::vector<double> out;
  out.reserve(topics.size());
  double seconds = std::chrono::duration<double>(now - last_at_).count();
  bool first = last_at_ == clock::time_point{} || seconds <= 0;
  std::unordered_map<std::string, uint64_t> next;
  next.reserve(topics.size());
  for (auto& t : topics) {
    auto it = last_.find(t.name);
    uint64_t before = it == last_.end() || it->second > t.msgs_in ? 0 : it->second;
    out.push_back(first || it == last_.end() ? 0.0
                                             : static_cast<double>(t.msgs_in - before) / seconds);
    next.emplace(t.name, t.msgs_in);
  }
  last_ = std::move(next);
  last_at_ = now;
  return out;
}

stats_listing make_listing(const std::vector<actor_stats>& topics, const std::vector<double>& rates,
                           std::vector<actor_stats> feeds) {
  std::vector<size_t> order;
  for (size_t i = 0; i < topics.size(); ++i)
    if (!is_system_topic(topics[i].name))
      order.push_back(i);
  auto subscribers = [&](size_t i) { return extra_u64(topics[i], "subscribers"); };
  auto rate = [&](size_t i) { return i < rates.size() ? rates[i] : 0.0; };
  auto busier = [&](size_t a, size_t b) {
    if (subscribers(a) != subscribers(b))
      return subscribers(a) > subscribers(b);
    if (rate(a) != rate(b))
      return rate(a) > rate(b);
    return topics[a].name < topics[b].name;
  };
  auto top = std::min(order.size(), stats_topic_top);
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(top), order.end(),
                    busier);
  order.resize(top);

  stats_listing out;
  out.topics.clear();
  json_writer w{out.topics};
  w.begin_array();
  for (auto i : order) {
    auto& t = topics[i];
    w.begin_object()
      .field("name", t.name)
      .field("subscribers", subscribers(i))
      .field("events_per_s", std::round(rate(i) * 10) / 10)
      .field("seq", extra_u64(t, "seq"))
      .key("epoch")
      .raw(extra(t, "epoch").empty() ? std::string_view{"null"} : extra(t, "epoch"))
      .field("retained", extra_u64(t, "retained"))
      .field("retained_bytes", extra_u64(t, "retained_bytes"))
      .end_object();
  }
  w.end_array();

  std::sort(feeds.begin(), feeds.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  out.feeds.clear();
  json_writer f{out.feeds};
  f.begin_array();
  for (auto& feed : feeds)
    f.begin_object()
      .field("name", feed.name)
      .key("link")
      .raw(extra(feed, "link").empty() ? std::string_view{"null"} : extra(feed, "link"))
      .field("topics", extra_u64(feed, "topics"))
      .end_object();
  f.end_array();
  return out;
}

std::string stats_payload(const metrics& m, std::string_view node_id, int64_t ts_ms,
                          int64_t uptime_ms, const stats_listing& listing,
                          std::string_view maintenance_json) {
  std::string out;
  json_writer w{out};
  w.begin_object()
    .field("node", node_id)
    .field("ts_ms", ts_ms)
    .field("uptime_ms", uptime_ms)
    .key("stats")
    .begin_object();
  write_stats(m, w);
  w.end_object()
    .key("topics")
    .raw(listing.topics)
    .key("feeds")
    .raw(listing.feeds)
    .key("maintenance")
    .raw(maintenance_json.empty() ? std::string_view{R"({"on":false})"} : maintenance_json)
    .end_object();
  return out;
}

} // namespace tickgate
