// The $sys:stats event: topic rates from two samples (clock injected) and the
// payload's busiest topics, feeds and figures.

#include "actors/stats_topic.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>

#include "actors/metrics.hpp"

using namespace tickgate;
using namespace std::chrono_literals;

namespace {

actor_stats topic(std::string name, uint64_t published, uint64_t subscribers, uint64_t seq = 0) {
  actor_stats s;
  s.kind = "topic";
  s.name = std::move(name);
  s.msgs_in = published;
  s.extra = {{"subscribers", std::to_string(subscribers)},
             {"seq", std::to_string(seq)},
             {"epoch", "\"tg-1-1\""},
             {"retained", "3"},
             {"retained_bytes", "120"}};
  return s;
}

actor_stats feed_entry(std::string name, bool up) {
  actor_stats s;
  s.kind = "bridge";
  s.name = std::move(name);
  s.extra = {{"link", up ? "\"up\"" : "\"down\""}, {"topics", "4"}};
  return s;
}

} // namespace

TEST(topic_rates, are_the_published_difference_over_the_time_between_samples) {
  topic_rates rates;
  topic_rates::clock::time_point t0{std::chrono::seconds{100}};
  auto first = rates.update({topic("a", 10, 1)}, t0);
  EXPECT_EQ(first, std::vector<double>{0.0}); // nothing to compare with yet
  auto second = rates.update({topic("a", 30, 1), topic("b", 5, 1)}, t0 + 2s);
  EXPECT_EQ(second, (std::vector<double>{10.0, 0.0})); // b is new
  // a restarted (its counter went back): counted from zero; b gone and back.
  auto third = rates.update({topic("a", 4, 1)}, t0 + 3s);
  EXPECT_EQ(third, std::vector<double>{4.0});
  auto fourth = rates.update({topic("b", 50, 1)}, t0 + 4s);
  EXPECT_EQ(fourth, std::vector<double>{0.0});
}

TEST(stats_payload, lists_the_busiest_topics_first_with_feeds_figures_and_maintenance) {
  metrics m;
  m.conn_open = 7;
  stats_sample sample;
  sample.node_id = "tg-test";
  sample.ts_ms = 1700000000000;
  sample.uptime_ms = 5000;
  for (int i = 0; i < 12; ++i)
    sample.topics.push_back(topic("t" + std::to_string(i), 0, i % 3, 40 + i));
  sample.rates.assign(12, 0.0);
  sample.rates[3] = 12.34; // t3 and t0, t6, t9 have no subscriber-lead; t3 is fastest of its group
  sample.feeds = {feed_entry("redis", false), feed_entry("bus", true)};
  sample.maintenance_json = R"({"on":true,"message":"upgrade"})";
  auto json = stats_payload(m, std::move(sample));

  simdjson::dom::parser parser;
  auto doc = parser.parse(json);
  ASSERT_FALSE(doc.error()) << json;
  EXPECT_EQ(doc["node"].get_string().value(), "tg-test");
  EXPECT_EQ(doc["ts_ms"].get_int64().value(), 1700000000000);
  EXPECT_EQ(doc["stats"]["conn"]["open"].get_int64().value(), 7);
  auto topics = doc["topics"].get_array();
  ASSERT_EQ(topics.size(), stats_topic_top);
  std::vector<std::string> names;
  for (auto t : topics)
    names.push_back(std::string{t["name"].get_string().value()});
  // Two subscribers first (by name), then one, then none, the fastest first.
  EXPECT_EQ(names, (std::vector<std::string>{"t11", "t2", "t5", "t8", "t1", "t10", "t4", "t7",
                                             "t3", "t0"}));
  auto t3 = topics.at(8);
  EXPECT_DOUBLE_EQ(t3["events_per_s"].get_double().value(), 12.3);
  EXPECT_EQ(t3["seq"].get_uint64().value(), 43u);
  EXPECT_EQ(t3["epoch"].get_string().value(), "tg-1-1");
  EXPECT_EQ(t3["retained_bytes"].get_uint64().value(), 120u);
  auto feeds = doc["feeds"].get_array();
  ASSERT_EQ(feeds.size(), 2u);
  EXPECT_EQ(feeds.at(0)["name"].get_string().value(), "bus");
  EXPECT_EQ(feeds.at(1)["link"].get_string().value(), "down");
  EXPECT_TRUE(doc["maintenance"]["on"].get_bool().value());
}
