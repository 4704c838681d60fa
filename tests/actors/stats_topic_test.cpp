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

TEST(stats_listing, lists_the_busiest_topics_first_then_the_feeds_by_name) {
  std::vector<actor_stats> topics;
  for (int i = 0; i < 12; ++i)
    topics.push_back(topic("t" + std::to_string(i), 0, i % 3, 40 + i));
  topics.push_back(topic("$sys:stats", 0, 9)); // never listed
  std::vector<double> rates(topics.size(), 0.0);
  rates[3] = 12.34; // t3 leads the topics without subscribers
  auto listing = make_listing(topics, rates, {feed_entry("redis", false), feed_entry("bus", true)});

  simdjson::dom::parser parser;
  auto list = parser.parse(listing.topics).get_array();
  ASSERT_FALSE(list.error()) << listing.topics;
  ASSERT_EQ(list.size(), stats_topic_top);
  std::vector<std::string> names;
  for (auto t : list)
    names.push_back(std::string{t["name"].get_string().value()});
  // Two subscribers first (by name), then one, then none, the fastest first.
  EXPECT_EQ(names, (std::vector<std::string>{"t11", "t2", "t5", "t8", "t1", "t10", "t4", "t7",
                                             "t3", "t0"}));
  auto t3 = list.at(8);
  EXPECT_DOUBLE_EQ(t3["events_per_s"].get_double().value(), 12.3);
  EXPECT_EQ(t3["seq"].get_uint64().value(), 43u);
  EXPECT_EQ(t3["epoch"].get_string().value(), "tg-1-1");
  EXPECT_EQ(t3["retained_bytes"].get_uint64().value(), 120u);

  simdjson::dom::parser feed_parser;
  auto feeds = feed_parser.parse(listing.feeds).get_array();
  ASSERT_EQ(feeds.size(), 2u);
  EXPECT_EQ(feeds.at(0)["name"].get_string().value(), "bus");
  EXPECT_EQ(feeds.at(1)["link"].get_string().value(), "down");
  EXPECT_EQ(feeds.at(1)["topics"].get_uint64().value(), 4u);
}

TEST(stats_payload, carries_the_figures_read_now_with_the_listing_and_maintenance) {
  metrics m;
  m.conn_open = 7;
  stats_listing listing;
  listing.topics = R"([{"name":"a"}])";
  auto json = stats_payload(m, "tg-test", 1700000000000, 5000, listing,
                            R"({"on":true,"message":"upgrade"})");
  simdjson::dom::parser parser;
  auto doc = parser.parse(json);
  ASSERT_FALSE(doc.error()) << json;
  EXPECT_EQ(doc["node"].get_string().value(), "tg-test");
  EXPECT_EQ(doc["ts_ms"].get_int64().value(), 1700000000000);
  EXPECT_EQ(doc["uptime_ms"].get_int64().value(), 5000);
  EXPECT_EQ(doc["stats"]["conn"]["open"].get_int64().value(), 7);
  EXPECT_EQ(doc["stats"]["latency"]["count"].get_uint64().value(), 0u);
  EXPECT_EQ(doc["topics"].at(0)["name"].get_string().value(), "a");
  EXPECT_EQ(doc["feeds"].get_array().size(), 0u);
  EXPECT_TRUE(doc["maintenance"]["on"].get_bool().value());
  auto off = stats_payload(m, "tg-test", 0, 0, listing, "");
  EXPECT_FALSE(parser.parse(off)["maintenance"]["on"].get_bool().value());
}
