// The inbound rate limit a connection applies to its client's messages.

#include <gtest/gtest.h>

#include "actors/rate_limit.hpp"
#include "proto/dialect_settings.hpp"

using namespace std::chrono_literals;
using namespace tickgate;
using verdict = inbound_limiter::verdict;

namespace {

const auto t0 = std::chrono::steady_clock::time_point{} + 1h;

inbound_settings settings(double rate, double burst, size_t abuse_drops = 0) {
  inbound_settings s;
  s.standard = rate_spec{rate, burst};
  s.abuse_drops = abuse_drops;
  return s;
}

} // namespace

TEST(token_bucket, allows_a_burst_then_refills_at_the_rate) {
  token_bucket b{10, 3, t0};
  EXPECT_TRUE(b.take(t0));
  EXPECT_TRUE(b.take(t0));
  EXPECT_TRUE(b.take(t0));
  EXPECT_FALSE(b.take(t0));
  EXPECT_FALSE(b.take(t0 + 50ms)); // half a token
  EXPECT_TRUE(b.take(t0 + 100ms));
  EXPECT_FALSE(b.full_at(t0 + 100ms));
  EXPECT_TRUE(b.full_at(t0 + 400ms));
  // Refill never exceeds the burst.
  for (int i = 0; i < 3; ++i)
    EXPECT_TRUE(b.take(t0 + 10s));
  EXPECT_FALSE(b.take(t0 + 10s));
}

TEST(token_bucket, rate_zero_is_unlimited) {
  token_bucket b{0, 0, t0};
  for (int i = 0; i < 1000; ++i)
    ASSERT_TRUE(b.take(t0));
}

TEST(rate_spec, parses_rate_and_optional_burst) {
  auto a = parse_rate_spec("20:40");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->rate, 20);
  EXPECT_EQ(a->burst, 40);
  auto b = parse_rate_spec("2.5");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->rate, 2.5);
  EXPECT_EQ(b->burst, 5);
  EXPECT_FALSE(parse_rate_spec(""));
  EXPECT_FALSE(parse_rate_spec("fast"));
  EXPECT_FALSE(parse_rate_spec("10:"));
  EXPECT_FALSE(parse_rate_spec("10:0.5")); // a bucket below one message refuses everything
  EXPECT_FALSE(parse_rate_spec("-1"));
}

TEST(inbound_limiter, over_the_limit_tells_the_client_once_per_interval) {
  auto s = settings(50, 100);
  inbound_limiter l{&s};
  for (int i = 0; i < 100; ++i)
    ASSERT_EQ(l.admit(wire_format::json, t0), verdict::pass) << i;
  EXPECT_EQ(l.admit(wire_format::json, t0), verdict::drop_notify);
  EXPECT_EQ(l.admit(wire_format::json, t0 + 10ms), verdict::drop_silently);
  EXPECT_EQ(l.admit(wire_format::json, t0 + 19ms), verdict::drop_silently);
  EXPECT_EQ(l.admit(wire_format::json, t0 + 40ms), verdict::pass); // a token came back
  EXPECT_EQ(l.dropped(), 3u);
  // Exhausted again after the notice interval: the client is told again.
  auto t1 = t0 + 1100ms;
  int passed = 0;
  verdict v;
  while ((v = l.admit(wire_format::json, t1)) == verdict::pass)
    ++passed;
  EXPECT_EQ(v, verdict::drop_notify);
  EXPECT_NEAR(passed, 54, 1);
}

TEST(inbound_limiter, sustained_flooding_closes_within_the_abuse_window) {
  auto s = settings(10, 10, 20);
  s.abuse_window = 1s;
  inbound_limiter l{&s};
  for (int i = 0; i < 10; ++i)
    l.admit(wire_format::json, t0);
  for (int i = 0; i < 19; ++i)
    ASSERT_NE(l.admit(wire_format::json, t0), verdict::close) << i;
  EXPECT_EQ(l.admit(wire_format::json, t0), verdict::close);
}

TEST(inbound_limiter, drops_spread_over_windows_do_not_close) {
  auto s = settings(1, 1, 5);
  s.abuse_window = 1s;
  inbound_limiter l{&s};
  // Four drops per two seconds: never five within one window.
  for (int w = 0; w < 10; ++w) {
    auto t = t0 + std::chrono::seconds(2 * w);
    l.admit(wire_format::json, t); // the token that refilled meanwhile
    for (int i = 0; i < 4; ++i)
      ASSERT_NE(l.admit(wire_format::json, t), verdict::close) << w;
  }
}

TEST(inbound_limiter, overrides_apply_per_dialect_and_socketio_namespace) {
  auto s = settings(100, 100);
  s.overrides = {{"action", {1, 2}}, {"socketio", {1, 1}}, {"socketio/market", {1, 3}}};
  inbound_limiter l{&s};
  wire_format action{dialect::action};
  EXPECT_EQ(l.admit(action, t0), verdict::pass);
  EXPECT_EQ(l.admit(action, t0), verdict::pass);
  EXPECT_NE(l.admit(action, t0), verdict::pass);
  // Native frames have their own bucket at the standard rate.
  for (int i = 0; i < 100; ++i)
    ASSERT_EQ(l.admit(wire_format::json, t0), verdict::pass);
  auto market = dialects().namespace_index("/market");
  auto prices = dialects().namespace_index("/prices");
  ASSERT_TRUE(market && prices);
  wire_format in_market{dialect::socketio, false, *market, 0};
  wire_format in_prices{dialect::socketio, false, *prices, 0};
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(l.admit(in_market, t0), verdict::pass);
  EXPECT_NE(l.admit(in_market, t0), verdict::pass);
  EXPECT_EQ(l.admit(in_prices, t0), verdict::pass);
  EXPECT_NE(l.admit(in_prices, t0), verdict::pass);
}
