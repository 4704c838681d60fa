#include "net/channel_map.hpp"

#include <gtest/gtest.h>

using namespace tickgate::net;

TEST(channel_map, is_the_identity_without_rules) {
  channel_map m;
  EXPECT_EQ(m.to_channel("trade@AAPL"), "trade@AAPL");
  EXPECT_EQ(m.to_topic("trade@AAPL"), "trade@AAPL");
}

TEST(channel_map, maps_both_ways_with_templates_in_order) {
  channel_map m;
  ASSERT_FALSE(channel_map::parse({"trade@{symbol} -> channel:trade:{symbol}",
                                   "{x}@book -> book.{x}"},
                                  m));
  EXPECT_EQ(m.to_channel("trade@AAPL"), "channel:trade:AAPL");
  EXPECT_EQ(m.to_topic("channel:trade:AAPL"), "trade@AAPL");
  EXPECT_EQ(m.to_channel("BTC@book"), "book.BTC");
  EXPECT_EQ(m.to_topic("book.BTC"), "BTC@book");
  EXPECT_EQ(m.to_channel("ticker@AAPL"), "ticker@AAPL"); // no rule: identity
  EXPECT_EQ(m.to_topic("channel:trade:"), "channel:trade:"); // empty capture: no match
}

TEST(channel_map, rejects_malformed_rules) {
  channel_map m;
  EXPECT_TRUE(channel_map::parse({"trade@{symbol}"}, m));
  EXPECT_TRUE(channel_map::parse({"trade@AAPL -> x"}, m));
  EXPECT_TRUE(channel_map::parse({"{a}{b} -> {c}"}, m));
}

TEST(glob_match, follows_redis_pattern_rules) {
  EXPECT_TRUE(glob_match("channel:trade:*", "channel:trade:AAPL"));
  EXPECT_TRUE(glob_match("channel:trade:*", "channel:trade:"));
  EXPECT_FALSE(glob_match("channel:trade:*", "channel:depth:AAPL"));
  EXPECT_TRUE(glob_match("h?llo", "hello"));
  EXPECT_FALSE(glob_match("h?llo", "hllo"));
  EXPECT_TRUE(glob_match("h[ae]llo", "hallo"));
  EXPECT_FALSE(glob_match("h[^e]llo", "hello"));
  EXPECT_TRUE(glob_match("h[a-c]llo", "hbllo"));
  EXPECT_TRUE(glob_match("a*b*c", "axxbyyc"));
  EXPECT_FALSE(glob_match("a*b*c", "axxbyy"));
  EXPECT_TRUE(glob_match("a\\*", "a*"));
  EXPECT_FALSE(glob_match("a\\*", "ab"));
}
