#include "tools/tickgate-bench/receipt.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace tickgate::bench {
namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// The number at `at` (after any spaces); -1, and `at` unchanged, if there is
// none or it has more than 18 digits (no counter or timestamp has).
int64_t digits_at(std::string_view s, size_t& at) {
  size_t i = at;
  while (i < s.size() && s[i] == ' ')
    ++i;
  size_t first = i;
  int64_t v = 0;
  while (i < s.size() && is_digit(s[i]) && i - first < 18)
    v = v * 10 + (s[i++] - '0');
  if (i == first || (i < s.size() && is_digit(s[i])))
    return -1;
  at = i;
  return v;
}

int64_t number_after(std::string_view s, std::string_view key) {
  auto pos = s.find(key);
  if (pos == std::string_view::npos)
    return -1;
  pos += key.size();
  return digits_at(s, pos);
}

bool expect(std::string_view s, size_t& at, std::string_view text) {
  if (s.substr(at, text.size()) != text)
    return false;
  at += text.size();
  return true;
}

} // namespace

event_fields read_event(std::string_view frame) {
  constexpr std::string_view k_key = R"("k":)", n_key = R"(,"n":)", p_key = R"(,"P":)";
  auto at = frame.find(k_key);
  if (at != std::string_view::npos) {
    at += k_key.size();
    event_fields f;
    if ((f.k = digits_at(frame, at)) >= 0 && expect(frame, at, n_key)
        && (f.n = digits_at(frame, at)) >= 0 && expect(frame, at, p_key)
        && (f.p = digits_at(frame, at)) >= 0)
      return f;
  }
  return {number_after(frame, R"("k":)"), number_after(frame, R"("n":)"),
          number_after(frame, R"("P":)")};
}

size_t latency_histogram::index_of(uint64_t us) {
  if (us < linear)
    return static_cast<size_t>(us);
  int shift = std::bit_width(us) - 1 - sub_bits; // us >> shift is in [512, 1024)
  return linear + static_cast<size_t>(shift - 1) * (size_t{1} << sub_bits)
         + static_cast<size_t>((us >> shift) - (uint64_t{1} << sub_bits));
}

double latency_histogram::middle_of(size_t index) {
  if (index < linear)
    return static_cast<double>(index);
  auto shift = static_cast<int>((index - linear) >> sub_bits) + 1;
  auto top = (index - linear) & ((size_t{1} << sub_bits) - 1);
  double low = std::ldexp(static_cast<double>((size_t{1} << sub_bits) + top), shift);
  return low + std::ldexp(1.0, shift) / 2 - 0.5;
}

void latency_histogram::add(uint64_t us) {
  ++buckets_[index_of(us)];
  ++count_;
  max_ = std::max(max_, us);
}

void latency_histogram::merge(const latency_histogram& other) {
  for (size_t i = 0; i < bucket_count; ++i)
    buckets_[i] += other.buckets_[i];
  count_ += other.count_;
  max_ = std::max(max_, other.max_);
}

double latency_histogram::quantile_ms(double q) const {
  if (count_ == 0)
    return 0;
  // The same rank as sorting every sample and taking [q * (count - 1)].
  auto rank = static_cast<uint64_t>(q * static_cast<double>(count_ - 1));
  uint64_t seen = 0;
  for (size_t i = 0; i < bucket_count; ++i) {
    seen += buckets_[i];
    if (seen > rank)
      return std::min(middle_of(i), static_cast<double>(max_)) / 1000.0;
  }
  return max_ms();
}

} // namespace tickgate::bench
