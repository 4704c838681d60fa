// The views generated from metrics.def: /metrics (Prometheus text),
// /api/stats (grouped JSON) and the headline summary.

#include "actors/metrics.hpp"

#include <map>
#include <set>
#include <sstream>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "proto/json_writer.hpp"

using namespace tickgate;

namespace {

std::string stats_json(const metrics& m) {
  std::string out;
  json_writer w{out};
  w.begin_object();
  write_stats(m, w);
  w.end_object();
  return out;
}

// Sample lines of a Prometheus text, name{labels} -> value.
std::map<std::string, std::string> samples(const std::string& text) {
  std::map<std::string, std::string> out;
  std::istringstream in{text};
  std::string line;
  while (std::getline(in, line))
    if (!line.empty() && line[0] != '#') {
      auto space = line.rfind(' ');
      out[line.substr(0, space)] = line.substr(space + 1);
    }
  return out;
}

} // namespace

TEST(metrics, prometheus_text_shows_each_written_field_under_its_family_and_label) {
  metrics m;
  m.conn_accepted.fetch_add(3);
  m.topic_events_out.fetch_add(10);
  m.conn_replies_out.fetch_add(4);
  m.refused_ip_rate.fetch_add(2);
  m.conn_by_dialect[4].fetch_add(1); // socketio
  m.count_error(error_code::unknown_op);
  m.count_auth_failure(auth_failure::bad_signature);
  std::string text;
  write_prometheus(m, text);
  auto s = samples(text);
  EXPECT_EQ(s["tickgate_connections_accepted_total"], "3");
  EXPECT_EQ(s[R"(tickgate_messages_out_total{kind="event"})"], "10");
  EXPECT_EQ(s[R"(tickgate_messages_out_total{kind="reply"})"], "4");
  EXPECT_EQ(s[R"(tickgate_handshakes_refused_total{reason="ip_handshake_rate"})"], "2");
  EXPECT_EQ(s[R"(tickgate_connections{dialect="socketio"})"], "1");
  EXPECT_EQ(s[R"(tickgate_connections{dialect="native"})"], "0");
  EXPECT_EQ(s[R"(tickgate_errors_total{code="unknown_op"})"], "1");
  EXPECT_EQ(s.count(R"(tickgate_errors_total{code="unspecified"})"), 0u); // index 0 is no code
  EXPECT_EQ(s[R"(tickgate_auth_failures_total{reason="bad_signature"})"], "1");
}

TEST(metrics, each_prometheus_family_has_one_help_and_type_and_its_samples_together) {
  metrics m;
  std::string text;
  write_prometheus(m, text);
  std::istringstream in{text};
  std::string line, family;
  std::map<std::string, int> types;
  std::set<std::string> closed; // families whose samples are over
  while (std::getline(in, line)) {
    if (line.rfind("# TYPE ", 0) == 0) {
      if (!family.empty())
        closed.insert(family);
      family = line.substr(7, line.find(' ', 7) - 7);
      ++types[family];
      continue;
    }
    if (line[0] == '#')
      continue;
    auto name = line.substr(0, line.find_first_of("{ "));
    EXPECT_EQ(name.rfind(family, 0), 0u) << line << " outside its family " << family;
    EXPECT_EQ(closed.count(name), 0u) << line;
  }
  for (auto& [f, n] : types)
    EXPECT_EQ(n, 1) << f;
  EXPECT_EQ(types.count("tickgate_messages_out_total"), 1u);
}

TEST(metrics, histogram_buckets_are_cumulative_in_seconds_with_sum_and_count) {
  metrics m;
  {
    metrics::latency_tally t{m};
    t.add(400);     // <= 0.0005 s
    t.add(3000);    // <= 0.005 s
    t.add(9000000); // over the last bound
  }
  std::string text;
  write_prometheus(m, text);
  auto s = samples(text);
  EXPECT_NE(text.find("# TYPE tickgate_publish_to_write_seconds histogram"), std::string::npos);
  EXPECT_EQ(s[R"(tickgate_publish_to_write_seconds_bucket{le="0.0005"})"], "1");
  EXPECT_EQ(s[R"(tickgate_publish_to_write_seconds_bucket{le="0.005"})"], "2");
  EXPECT_EQ(s[R"(tickgate_publish_to_write_seconds_bucket{le="5"})"], "2");
  EXPECT_EQ(s[R"(tickgate_publish_to_write_seconds_bucket{le="+Inf"})"], "3");
  EXPECT_EQ(s["tickgate_publish_to_write_seconds_count"], "3");
  EXPECT_EQ(s["tickgate_publish_to_write_seconds_sum"], "9.003400");
}

TEST(metrics, stats_json_groups_fields_under_their_keys) {
  metrics m;
  m.conn_open.fetch_add(2);
  m.conn_frames_too_large.fetch_add(1);
  m.topic_unrouted.fetch_add(5);
  m.bridge_oversize.fetch_add(6);
  m.http_publish_rejected.fetch_add(7);
  m.refused_malformed.fetch_add(8);
  m.count_error(error_code::bad_request);
  m.topic_subscriptions.fetch_sub(1); // gauges may go below zero while in flight
  auto json = stats_json(m);
  simdjson::dom::parser parser;
  auto doc = parser.parse(json);
  ASSERT_FALSE(doc.error()) << json;
  EXPECT_EQ(doc["conn"]["open"].get_int64().value(), 2);
  EXPECT_EQ(doc["conn"]["frames_too_large"].get_uint64().value(), 1u);
  EXPECT_EQ(doc["conn"]["errors"]["bad_request"].get_uint64().value(), 1u);
  EXPECT_EQ(doc["conn"]["errors"]["unknown_op"].get_uint64().value(), 0u);
  EXPECT_EQ(doc["topic"]["unrouted"].get_uint64().value(), 5u);
  EXPECT_EQ(doc["topic"]["subscriptions"].get_int64().value(), -1);
  EXPECT_EQ(doc["bridge"]["oversize_dropped"].get_uint64().value(), 6u);
  EXPECT_EQ(doc["http"]["publish_rejected"].get_uint64().value(), 7u);
  EXPECT_EQ(doc["protection"]["refused_malformed"].get_uint64().value(), 8u);
}

TEST(metrics, summary_lists_the_headline_figures_in_json_and_as_a_log_line) {
  metrics m;
  m.conn_open.fetch_add(1);
  m.topic_subscriptions.fetch_add(2);
  m.topic_live.fetch_add(3);
  m.topic_events_out.fetch_add(4);
  std::string json;
  json_writer w{json};
  w.begin_object();
  write_summary(m, w);
  w.end_object();
  EXPECT_EQ(json.rfind(R"({"connections":1,"subscriptions":2,"topics":3,)", 0), 0u) << json;
  EXPECT_NE(json.find(R"("events_out":4)"), std::string::npos) << json;
  auto line = summary_line(m);
  EXPECT_EQ(line.rfind("connections=1 subscriptions=2 topics=3 ", 0), 0u) << line;
  EXPECT_NE(line.find(" events_out=4"), std::string::npos) << line;
}

TEST(metrics, histogram_quantiles_interpolate_within_the_bucket_holding_the_rank) {
  std::array<int64_t, 3> bounds{100, 200, 400};
  std::array<uint64_t, 4> none{};
  EXPECT_FALSE(histogram_quantile(bounds, none, 0.5));
  // 10 samples in (0,100], 10 in (100,200]: the median is the first bucket's top.
  std::array<uint64_t, 4> two{10, 10, 0, 0};
  EXPECT_DOUBLE_EQ(*histogram_quantile(bounds, two, 0.5), 100.0);
  EXPECT_DOUBLE_EQ(*histogram_quantile(bounds, two, 0.75), 150.0);
  EXPECT_DOUBLE_EQ(*histogram_quantile(bounds, two, 0.25), 50.0);
  // Empty buckets before the rank are skipped; beyond the last bound the
  // answer is that bound (no upper edge to interpolate to).
  std::array<uint64_t, 4> late{0, 0, 4, 0};
  EXPECT_DOUBLE_EQ(*histogram_quantile(bounds, late, 0.5), 300.0);
  std::array<uint64_t, 4> overflow{1, 0, 0, 99};
  EXPECT_DOUBLE_EQ(*histogram_quantile(bounds, overflow, 0.99), 400.0);
}

TEST(metrics, stats_json_gives_the_latency_histogram_with_its_percentiles) {
  metrics m;
  {
    metrics::latency_tally tally{m};
    for (int i = 0; i < 90; ++i)
      tally.add(300);     // (0, 500]
    for (int i = 0; i < 10; ++i)
      tally.add(20000);   // (10000, 25000]
  }
  auto json = stats_json(m);
  simdjson::dom::parser parser;
  auto latency = parser.parse(json)["latency"];
  EXPECT_EQ(latency["count"].get_uint64().value(), 100u);
  EXPECT_EQ(latency["sum_us"].get_uint64().value(), 90u * 300 + 10u * 20000);
  EXPECT_EQ(latency["bounds_us"].get_array().size(), metrics::latency_bounds_us.size());
  EXPECT_EQ(latency["counts"].get_array().at(0).get_uint64().value(), 90u);
  EXPECT_EQ(latency["counts"].get_array().at(5).get_uint64().value(), 10u);
  EXPECT_DOUBLE_EQ(latency["p50_us"].get_double().value(), 278.0); // 500 * 50/90, rounded
  EXPECT_DOUBLE_EQ(latency["p99_us"].get_double().value(), 23500.0); // 10000 + 15000 * 9/10
  metrics empty;
  auto none = stats_json(empty);
  EXPECT_TRUE(parser.parse(none)["latency"]["p90_us"].is_null());
}
