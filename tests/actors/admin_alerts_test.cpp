// When the node raises admin alerts: slow-consumer storms within a window,
// history evictions at most once per interval, feeds going down and back.
#include "actors/admin_alerts.hpp"

#include <gtest/gtest.h>

using namespace tickgate;
using namespace std::chrono_literals;

namespace {

using clock_type = alert_watch::clock;

alert_settings storm_of(size_t closes, std::chrono::milliseconds window) {
  alert_settings s;
  s.storm_closes = closes;
  s.storm_window = window;
  return s;
}

} // namespace

TEST(admin_alerts, a_storm_is_n_slow_consumer_closes_within_the_window) {
  alert_watch w{storm_of(3, 10s)};
  auto t0 = clock_type::time_point{} + 100s;
  EXPECT_FALSE(w.slow_close(t0));
  EXPECT_FALSE(w.slow_close(t0 + 4s));
  auto alert = w.slow_close(t0 + 9s);
  ASSERT_TRUE(alert);
  EXPECT_EQ(alert->kind, "slow_consumer_storm");
  EXPECT_EQ(alert->level, "warning");
  EXPECT_EQ(alert->message, "3 slow-consumer disconnects within 10 s");
}

TEST(admin_alerts, closes_spread_wider_than_the_window_are_no_storm) {
  alert_watch w{storm_of(3, 10s)};
  auto t0 = clock_type::time_point{} + 100s;
  EXPECT_FALSE(w.slow_close(t0));
  EXPECT_FALSE(w.slow_close(t0 + 6s));
  EXPECT_FALSE(w.slow_close(t0 + 11s)); // the first fell out of the window
  EXPECT_FALSE(w.slow_close(t0 + 17s)); // so did the second
}

TEST(admin_alerts, a_lasting_storm_is_reported_once_per_window) {
  alert_watch w{storm_of(2, 10s)};
  auto t0 = clock_type::time_point{} + 100s;
  EXPECT_FALSE(w.slow_close(t0));
  EXPECT_TRUE(w.slow_close(t0 + 1s));
  for (int i = 2; i < 11; ++i)
    EXPECT_FALSE(w.slow_close(t0 + std::chrono::seconds(i))) << i;
  EXPECT_TRUE(w.slow_close(t0 + 11s)); // a window after the report, still storming
}

TEST(admin_alerts, zero_closes_turns_storm_alerts_off) {
  alert_watch w{storm_of(0, 10s)};
  auto t0 = clock_type::time_point{} + 100s;
  for (int i = 0; i < 100; ++i)
    EXPECT_FALSE(w.slow_close(t0));
}

TEST(admin_alerts, evictions_alert_when_the_counter_grew_at_most_once_per_interval) {
  alert_settings s;
  s.eviction_interval = 60s;
  alert_watch w{s};
  auto t0 = clock_type::time_point{} + 100s;
  EXPECT_FALSE(w.evictions(500, t0));        // the baseline: evicted before anyone looked
  EXPECT_FALSE(w.evictions(500, t0 + 5s));   // nothing new
  auto first = w.evictions(520, t0 + 10s);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->kind, "history_evictions");
  EXPECT_EQ(first->message, "20 retained events evicted to keep history under history.max-bytes");
  EXPECT_FALSE(w.evictions(530, t0 + 15s));  // within the interval: held back
  auto second = w.evictions(545, t0 + 70s);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->message, "25 retained events evicted to keep history under history.max-bytes");
}

TEST(admin_alerts, a_feed_down_is_critical_and_its_return_is_news) {
  auto down = alert_watch::feed_status("redis", false, "connection refused");
  EXPECT_EQ(down.level, "critical");
  EXPECT_EQ(down.kind, "feed_down");
  EXPECT_EQ(down.message, "feed redis is down: connection refused");
  auto up = alert_watch::feed_status("redis", true, "");
  EXPECT_EQ(up.level, "info");
  EXPECT_EQ(up.kind, "feed_up");
  admin_alert a{"info", "feed_up", "feed \"x\" is up", 1700000000000};
  EXPECT_EQ(a.to_json(),
            R"({"level":"info","kind":"feed_up","message":"feed \"x\" is up","ts":1700000000000})");
}
