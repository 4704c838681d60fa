#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace tickgate::bench {

/// The fields a receiver needs from a published event: the topic index
/// ("k"), the per-topic counter ("n") and the publish time in µs ("P");
/// -1 for a field the frame lacks. The publisher writes them first and in
/// that order, so the common case is one search and three number scans;
/// a gateway that reorders keys is still read, by one search per key.
struct event_fields {
  int64_t k = -1, n = -1, p = -1;
};
event_fields read_event(std::string_view frame);

/// Latency in µs, counted into fixed log-linear buckets: exact below
/// 1,024 µs, then 512 buckets per power of two (within 0.1 %). Adding is a
/// few instructions and never allocates, so recording millions of
/// deliveries does not stall the thread that reads them (a growing vector
/// did: page faults and large copies in the read path).
class latency_histogram {
public:
  void add(uint64_t us);
  void merge(const latency_histogram& other);
  uint64_t count() const { return count_; }
  /// The value at quantile `q` (0..1) in ms: the middle of its bucket.
  double quantile_ms(double q) const;
  double max_ms() const { return static_cast<double>(max_) / 1000.0; }

private:
  static constexpr int sub_bits = 9;                      // 512 per octave
  static constexpr size_t linear = size_t{1} << (sub_bits + 1); // 1,024 exact
  static constexpr size_t octaves = 64 - sub_bits - 1;
  static constexpr size_t bucket_count = linear + octaves * (size_t{1} << sub_bits);
  static size_t index_of(uint64_t us);
  static double middle_of(size_t index);

  std::array<uint64_t, bucket_count> buckets_{};
  uint64_t count_ = 0;
  uint64_t max_ = 0;
};

} // namespace tickgate::bench
