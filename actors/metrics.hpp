#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "actors/auth.hpp"
#include "proto/emitter_packet.hpp"
#include "proto/error_code.hpp"
#include "proto/wire_format.hpp"

namespace tickgate {

class json_writer;

/// Gauges whose label values are known only at run time (Kafka's
/// topic/partition pairs): one sample per label set, each set and removed
/// by its writer. A mutex, not atomics: written about once a second.
class labelled_gauges {
public:
  /// `labels` is the rendered label set, `topic="price.updates",partition="3"`
  /// (values escaped by the writer).
  void set(const std::string& labels, int64_t value) {
    std::lock_guard<std::mutex> guard{mtx_};
    values_[labels] = value;
  }
  void erase(const std::string& labels) {
    std::lock_guard<std::mutex> guard{mtx_};
    values_.erase(labels);
  }
  std::map<std::string, int64_t> snapshot() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return values_;
  }

private:
  mutable std::mutex mtx_;
  std::map<std::string, int64_t> values_;
};

/// Process-wide counters and gauges, written by actors and sessions and read by
/// the HTTP routes, the inspector and the periodic stats line. Each is declared
/// once, in metrics.def, with its names and help; writers add to its field
/// with one relaxed atomic operation. Writers on the hot path batch their
/// increments (one add per publication, not per delivery).
struct metrics {
  using counter = std::atomic<uint64_t>;
  using gauge = std::atomic<int64_t>;

  /// Label values of the arrays in metrics.def ("" skips an index).
  static std::string_view dialect_name(size_t i); // native, action, stream, typed, socketio, auto
  static std::string_view error_name(size_t i);   // error_code; 0 (none) skipped
  static std::string_view auth_failure_name(size_t i);
  static std::string_view kafka_skip_name(size_t i); // net/kafka_routes.hpp: skip_reason
  static std::string_view emitter_skip_name(size_t i); // emitter::skip
  static std::string_view namespace_name(size_t i);    // dialects().namespaces
  // Socket.IO namespaces counted by conn_by_namespace; the node refuses to
  // start with more configured.
  static constexpr size_t max_namespaces = 16;

  // Publish-to-write latency bucket upper bounds, in microseconds.
  static constexpr std::array<int64_t, 13> latency_bounds_us{
    500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000, 5000000};

#define TICKGATE_METRIC(type, field, summary, stats, prometheus, label, help) type field{0};
#define TICKGATE_METRIC_ARRAY(type, field, size, label_of, stats, prometheus, label, help) \
  std::array<type, size> field{};
#define TICKGATE_HISTOGRAM(field, stats, prometheus, help)                                \
  std::array<counter, field##_bounds_us.size() + 1> field##_buckets{}; /* last: +Inf */  \
  counter field##_sum_us{0};                                                              \
  counter field##_count{0};
#define TICKGATE_LABELLED(field, stats, prometheus, help) labelled_gauges field;
#include "actors/metrics.def"

  static size_t latency_bucket_of(int64_t us) {
    size_t i = 0;
    while (i < latency_bounds_us.size() && us > latency_bounds_us[i])
      ++i;
    return i;
  }

  /// The latencies of one socket write, added to the histogram when it goes
  /// out of scope: one atomic add per bucket touched, not three per frame.
  class latency_tally {
  public:
    explicit latency_tally(metrics& m) : m_(m) {}
    latency_tally(const latency_tally&) = delete;
    latency_tally& operator=(const latency_tally&) = delete;
    ~latency_tally() {
      if (count_ == 0)
        return;
      for (size_t i = 0; i < counts_.size(); ++i)
        if (counts_[i] > 0)
          m_.latency_buckets[i].fetch_add(counts_[i], std::memory_order_relaxed);
      m_.latency_sum_us.fetch_add(sum_, std::memory_order_relaxed);
      m_.latency_count.fetch_add(count_, std::memory_order_relaxed);
    }
    void add(int64_t us) {
      ++counts_[latency_bucket_of(us)];
      sum_ += static_cast<uint64_t>(us > 0 ? us : 0);
      ++count_;
    }

  private:
    metrics& m_;
    std::array<uint64_t, latency_bounds_us.size() + 1> counts_{};
    uint64_t sum_ = 0;
    uint64_t count_ = 0;
  };

  void count_auth_failure(auth_failure f) {
    auth_failures[static_cast<size_t>(f)].fetch_add(1, std::memory_order_relaxed);
  }

  void count_error(error_code code) {
    conn_errors[static_cast<size_t>(code)].fetch_add(1, std::memory_order_relaxed);
  }
};

/// The node's metrics.
metrics& node_metrics();

// Views generated from metrics.def; none of them is on a hot path.

/// The headline figures (the table's `summary` keys) as members of the JSON
/// object `w` is writing: connections, subscriptions, topics, ...
void write_summary(const metrics& m, json_writer& w);

/// The headline figures as `key=value` pairs separated by spaces, for logs.
std::string summary_line(const metrics& m);

/// The value below which a fraction `q` (0..1) of a histogram's samples
/// fall: `counts` has one bucket per bound in `bounds_us` plus +Inf. Linear
/// within the bucket (its lower edge is the previous bound, or 0); a rank in
/// the +Inf bucket gives the last bound. Empty when there is no sample.
std::optional<double> histogram_quantile(std::span<const int64_t> bounds_us,
                                         std::span<const uint64_t> counts, double q);

/// Every metric with a `stats` key, as members `"group":{"key":value,...}`
/// of the JSON object `w` is writing (the body of /api/stats).
void write_stats(const metrics& m, json_writer& w);

/// Every metric with a Prometheus family, in the text exposition format
/// (version 0.0.4), appended to `out`.
void write_prometheus(const metrics& m, std::string& out);

} // namespace tickgate
