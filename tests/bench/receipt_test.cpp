#include "tools/tickgate-bench/receipt.hpp"

#include <algorithm>
#include <bit>
#include <random>
#include <vector>

#include <gtest/gtest.h>

using tickgate::bench::latency_histogram;
using tickgate::bench::read_event;

TEST(read_event, reads_the_publishers_fields_inside_any_envelope) {
  auto native = read_event(R"({"t":"ev","topic":"trade@X","data":{"k":3,"n":41,"P":1764000000123456}})");
  EXPECT_EQ(native.k, 3);
  EXPECT_EQ(native.n, 41);
  EXPECT_EQ(native.p, 1764000000123456);
  auto action = read_event(R"({"type":"update","channel":"c","data":{"k":0,"n":7,"P":12,"pad":"xx"}})");
  EXPECT_EQ(action.k, 0);
  EXPECT_EQ(action.n, 7);
  EXPECT_EQ(action.p, 12);
}

TEST(read_event, reads_keys_a_gateway_reordered_or_spaced) {
  auto f = read_event(R"({"data":{"P":99,"n":5, "k":2}})");
  EXPECT_EQ(f.k, 2);
  EXPECT_EQ(f.n, 5);
  EXPECT_EQ(f.p, 99);
  auto pretty = read_event(R"({"data": {"k": 1, "n": 8, "P": 1764000000123456}})");
  EXPECT_EQ(pretty.k, 1);
  EXPECT_EQ(pretty.n, 8);
  EXPECT_EQ(pretty.p, 1764000000123456);
}

TEST(read_event, a_frame_without_a_publish_time_is_not_an_event) {
  EXPECT_LT(read_event(R"({"type":"subscribed","channel":"k"})").p, 0);
  EXPECT_LT(read_event(R"({"k":1,"n":2})").p, 0);
  EXPECT_LT(read_event(R"({"k":1,"n":2,"P":x})").p, 0);
  EXPECT_LT(read_event(R"({"k":1,"n":2,"P":1234567890123456789})").p, 0); // 19 digits
  EXPECT_LT(read_event("").p, 0);
}

TEST(latency_histogram, quantiles_match_the_sorted_samples_within_a_tenth_of_a_percent) {
  std::mt19937_64 rng{42};
  std::lognormal_distribution<double> dist{9.0, 1.5}; // ~8 ms median, long tail
  latency_histogram h;
  std::vector<uint64_t> all;
  for (int i = 0; i < 200'000; ++i) {
    auto v = static_cast<uint64_t>(dist(rng));
    h.add(v);
    all.push_back(v);
  }
  std::sort(all.begin(), all.end());
  for (double q : {0.0, 0.5, 0.9, 0.99, 0.999, 1.0}) {
    double exact = static_cast<double>(all[static_cast<size_t>(q * (all.size() - 1))]) / 1000;
    EXPECT_NEAR(h.quantile_ms(q), exact, exact * 0.001 + 0.0005) << "q=" << q;
  }
  EXPECT_EQ(h.count(), all.size());
  EXPECT_DOUBLE_EQ(h.max_ms(), static_cast<double>(all.back()) / 1000);
}

TEST(latency_histogram, is_exact_below_a_millisecond_and_merges_threads) {
  latency_histogram a, b;
  for (uint64_t v = 0; v < 1000; ++v)
    (v % 2 ? a : b).add(v);
  a.merge(b);
  EXPECT_EQ(a.count(), 1000u);
  EXPECT_DOUBLE_EQ(a.quantile_ms(0.5), 0.499);
  EXPECT_DOUBLE_EQ(a.quantile_ms(0.99), 0.989);
  EXPECT_DOUBLE_EQ(a.max_ms(), 0.999);
  EXPECT_EQ(latency_histogram{}.quantile_ms(0.99), 0);
}

TEST(latency_histogram, keeps_outliers_of_seconds) {
  latency_histogram h;
  for (int i = 0; i < 999; ++i)
    h.add(2'000);
  h.add(7'000'000'000); // a frame that arrived two hours late
  EXPECT_NEAR(h.quantile_ms(0.5), 2.0, 0.004);
  EXPECT_NEAR(h.quantile_ms(1.0), 7'000'000.0, 7'000'000.0 * 0.002);
  EXPECT_DOUBLE_EQ(h.max_ms(), 7'000'000.0);
}

TEST(latency_histogram, buckets_are_contiguous_across_octaves_up_to_the_largest_value) {
  // Each value lands in a bucket whose middle is within half a bucket of it:
  // exact below 1,024 us, then 2 us wide up to 2,048, 4 us up to 4,096...
  for (uint64_t v : {1023ull, 1024ull, 1025ull, 2047ull, 2048ull, 2049ull, 4095ull, 4096ull}) {
    latency_histogram h;
    h.add(v);
    double width = v < 1024 ? 1 : static_cast<double>(uint64_t{1} << (std::bit_width(v) - 10));
    EXPECT_NEAR(h.quantile_ms(0.5) * 1000, static_cast<double>(v), width / 2) << v;
  }
  latency_histogram top;
  top.add(UINT64_MAX); // the last bucket
  top.add(UINT64_MAX - 1);
  EXPECT_EQ(top.count(), 2u);
  auto largest_ms = static_cast<double>(UINT64_MAX) / 1000;
  EXPECT_NEAR(top.quantile_ms(0.5), largest_ms, largest_ms * 0.001);
}
