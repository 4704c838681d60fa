#include "actors/stats_topic.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "actors/metrics.hpp"
#include "proto/json_writer.hpp"

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

std::string stats_payload(const metrics& m, stats_sample sample) {
  std::vector<size_t> order(sample.topics.size());
  std::iota(order.begin(), order.end(), size_t{0});
  auto subscribers = [&](size_t i) { return extra_u64(sample.topics[i], "subscribers"); };
  auto rate = [&](size_t i) { return i < sample.rates.size() ? sample.rates[i] : 0.0; };
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (subscribers(a) != subscribers(b))
      return subscribers(a) > subscribers(b);
    if (rate(a) != rate(b))
      return rate(a) > rate(b);
    return sample.topics[a].name < sample.topics[b].name;
  });
  if (order.size() > stats_topic_top)
    order.resize(stats_topic_top);

  std::string out;
  json_writer w{out};
  w.begin_object()
    .field("node", sample.node_id)
    .field("ts_ms", sample.ts_ms)
    .field("uptime_ms", sample.uptime_ms)
    .key("stats")
    .begin_object();
  write_stats(m, w);
  w.end_object().key("topics").begin_array();
  for (auto i : order) {
    auto& t = sample.topics[i];
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
  w.end_array().key("feeds").begin_array();
  std::sort(sample.feeds.begin(), sample.feeds.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  for (auto& f : sample.feeds)
    w.begin_object()
      .field("name", f.name)
      .key("link")
      .raw(extra(f, "link").empty() ? std::string_view{"null"} : extra(f, "link"))
      .field("topics", extra_u64(f, "topics"))
      .end_object();
  w.end_array()
    .key("maintenance")
    .raw(sample.maintenance_json.empty() ? std::string_view{R"({"on":false})"}
                                         : std::string_view{sample.maintenance_json})
    .end_object();
  return out;
}

} // namespace tickgate
