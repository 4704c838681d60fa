#include "actors/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <variant>
#include <vector>

#include <spdlog/fmt/fmt.h>

#include "proto/dialect_settings.hpp"
#include "proto/json_writer.hpp"

namespace tickgate {

metrics& node_metrics() {
  static metrics instance;
  return instance;
}

std::string_view metrics::dialect_name(size_t i) {
  static constexpr std::string_view names[] = {"native", "action", "stream", "typed", "socketio", "auto"};
  return i < std::size(names) ? names[i] : std::string_view{};
}

std::string_view metrics::error_name(size_t i) {
  return i == 0 ? std::string_view{} : to_string(static_cast<error_code>(i));
}

std::string_view metrics::auth_failure_name(size_t i) {
  return to_string(static_cast<auth_failure>(i));
}

std::string_view metrics::kafka_skip_name(size_t i) {
  // In the order of net/kafka_routes.hpp's skip_reason.
  static constexpr std::string_view names[] = {"not_json", "no_route", "missing_field",
                                               "bad_topic", "oversize"};
  return i < std::size(names) ? names[i] : std::string_view{};
}

std::string_view metrics::emitter_skip_name(size_t i) {
  return emitter::to_string(static_cast<emitter::skip>(i));
}

std::string_view metrics::namespace_name(size_t i) {
  auto& names = dialects().namespaces;
  return i < names.size() ? std::string_view{names[i]} : std::string_view{};
}

std::optional<double> histogram_quantile(std::span<const int64_t> bounds_us,
                                         std::span<const uint64_t> counts, double q) {
  uint64_t total = 0;
  for (auto c : counts)
    total += c;
  if (total == 0 || bounds_us.empty())
    return std::nullopt;
  auto rank = std::clamp(q, 0.0, 1.0) * static_cast<double>(total);
  double below = 0; // samples in the buckets before i
  for (size_t i = 0; i < counts.size(); ++i) {
    auto in = static_cast<double>(counts[i]);
    if (in > 0 && below + in >= rank) {
      if (i >= bounds_us.size())
        return static_cast<double>(bounds_us.back());
      double lower = i == 0 ? 0.0 : static_cast<double>(bounds_us[i - 1]);
      double upper = static_cast<double>(bounds_us[i]);
      return lower + (upper - lower) * std::max(rank - below, 0.0) / in;
    }
    below += in;
  }
  return static_cast<double>(bounds_us.back());
}

namespace {

enum class metric_type { counter, gauge, histogram, labelled };

using metric_value = std::variant<uint64_t, int64_t>;

struct histogram_view {
  std::span<const int64_t> bounds_us;
  std::span<const metrics::counter> buckets; // one more than bounds: +Inf
  const metrics::counter& sum_us;
  const metrics::counter& count;
};

// One line of metrics.def.
struct metric_def {
  metric_type type;
  std::string_view summary;
  std::string_view stats;      // "group.key"
  std::string_view prometheus; // family
  std::string_view label;      // scalar: "name=value"; array: the label's name
  std::string_view help;
  size_t size = 1;                            // samples (an array's size)
  std::string_view (*label_of)(size_t) = nullptr; // arrays only
  metric_value (*read)(const metrics&, size_t) = nullptr;
  histogram_view (*histogram)(const metrics&) = nullptr;
  const labelled_gauges& (*labelled)(const metrics&) = nullptr;
};

template <class T>
metric_value load(const std::atomic<T>& a, size_t) {
  return a.load(std::memory_order_relaxed);
}

template <class T, size_t N>
metric_value load(const std::array<std::atomic<T>, N>& a, size_t i) {
  return a[i].load(std::memory_order_relaxed);
}

const std::vector<metric_def>& metric_table() {
  static const std::vector<metric_def> table{
#define TICKGATE_METRIC(type, field, summary, stats, prometheus, label, help)               \
  metric_def{metric_type::type, summary, stats, prometheus, label, help, 1, nullptr,         \
             [](const metrics& m, size_t i) { return load(m.field, i); }},
#define TICKGATE_METRIC_ARRAY(type, field, size, label_of, stats, prometheus, label, help)  \
  metric_def{metric_type::type, "", stats, prometheus, label, help, size, &label_of,         \
             [](const metrics& m, size_t i) { return load(m.field, i); }},
#define TICKGATE_HISTOGRAM(field, stats, prometheus, help)                                   \
  metric_def{metric_type::histogram, "", stats, prometheus, "", help, 1, nullptr, nullptr,   \
             [](const metrics& m) {                                                          \
               return histogram_view{metrics::field##_bounds_us, m.field##_buckets,          \
                                     m.field##_sum_us, m.field##_count};                     \
             }},
#define TICKGATE_LABELLED(field, stats, prometheus, help)                                   \
  metric_def{metric_type::labelled, "", stats, prometheus, "", help, 1, nullptr, nullptr,    \
             nullptr, [](const metrics& m) -> const labelled_gauges& { return m.field; }},
#include "actors/metrics.def"
  };
  return table;
}

// "group.key" split at the first dot.
std::pair<std::string_view, std::string_view> stats_path(std::string_view stats) {
  auto dot = stats.find('.');
  return {stats.substr(0, dot), stats.substr(dot + 1)};
}

// A histogram as a JSON object (metrics.def says which members).
void write_histogram(json_writer& w, const histogram_view& h) {
  std::vector<uint64_t> counts;
  for (auto& b : h.buckets)
    counts.push_back(b.load(std::memory_order_relaxed));
  w.begin_object().key("bounds_us").begin_array();
  for (auto b : h.bounds_us)
    w.value(b);
  w.end_array().key("counts").begin_array();
  for (auto c : counts)
    w.value(c);
  w.end_array()
    .field("count", h.count.load(std::memory_order_relaxed))
    .field("sum_us", h.sum_us.load(std::memory_order_relaxed));
  for (auto [key, q] : {std::pair{"p50_us", 0.5}, {"p90_us", 0.9}, {"p99_us", 0.99}}) {
    w.key(key);
    if (auto v = histogram_quantile(h.bounds_us, counts, q))
      w.value(std::round(*v));
    else
      w.null();
  }
  w.end_object();
}

void write_value(json_writer& w, const metric_value& v) {
  std::visit([&](auto x) { w.value(x); }, v);
}

void append_value(std::string& out, const metric_value& v) {
  std::visit([&](auto x) { out += std::to_string(x); }, v);
}

std::string_view type_name(metric_type t) {
  switch (t) {
    case metric_type::counter: return "counter";
    case metric_type::gauge:
    case metric_type::labelled: return "gauge";
    case metric_type::histogram: return "histogram";
  }
  return "untyped";
}

// One sample line: name{labels} value. `label` is "name=value" or "".
void append_sample(std::string& out, std::string_view name, std::string_view label,
                   std::string_view value) {
  out += name;
  if (!label.empty()) {
    auto eq = label.find('=');
    out += '{';
    out += label.substr(0, eq);
    out += "=\"";
    out += label.substr(eq + 1); // label values in the table need no escaping
    out += "\"}";
  }
  out += ' ';
  out += value;
  out += '\n';
}

void append_samples(std::string& out, const metrics& m, const metric_def& d) {
  if (d.type == metric_type::labelled) {
    for (auto& [labels, value] : d.labelled(m).snapshot())
      out += fmt::format("{}{{{}}} {}\n", d.prometheus, labels, value);
    return;
  }
  if (d.type == metric_type::histogram) {
    auto h = d.histogram(m);
    std::string bucket = std::string{d.prometheus} + "_bucket";
    uint64_t cumulative = 0;
    for (size_t i = 0; i < h.buckets.size(); ++i) {
      cumulative += h.buckets[i].load(std::memory_order_relaxed);
      auto le = i < h.bounds_us.size()
                  ? fmt::format("le={}", static_cast<double>(h.bounds_us[i]) / 1e6)
                  : std::string{"le=+Inf"};
      append_sample(out, bucket, le, std::to_string(cumulative));
    }
    append_sample(out, std::string{d.prometheus} + "_sum", "",
                  fmt::format("{:.6f}", static_cast<double>(h.sum_us.load()) / 1e6));
    append_sample(out, std::string{d.prometheus} + "_count", "", std::to_string(h.count.load()));
    return;
  }
  std::string value;
  for (size_t i = 0; i < d.size; ++i) {
    std::string label{d.label};
    if (d.label_of) {
      auto name = d.label_of(i);
      if (name.empty())
        continue;
      label = fmt::format("{}={}", d.label, name);
    }
    value.clear();
    append_value(value, d.read(m, i));
    append_sample(out, d.prometheus, label, value);
  }
}

} // namespace

void write_summary(const metrics& m, json_writer& w) {
  for (auto& d : metric_table())
    if (!d.summary.empty()) {
      w.key(d.summary);
      write_value(w, d.read(m, 0));
    }
}

std::string summary_line(const metrics& m) {
  std::string out;
  for (auto& d : metric_table())
    if (!d.summary.empty()) {
      if (!out.empty())
        out += ' ';
      out += d.summary;
      out += '=';
      append_value(out, d.read(m, 0));
    }
  return out;
}

void write_stats(const metrics& m, json_writer& w) {
  auto& table = metric_table();
  std::vector<std::string_view> groups; // in order of first appearance
  for (auto& d : table)
    if (!d.stats.empty() && d.type != metric_type::histogram) {
      auto group = stats_path(d.stats).first;
      if (std::find(groups.begin(), groups.end(), group) == groups.end())
        groups.push_back(group);
    }
  for (auto group : groups) {
    w.key(group).begin_object();
    for (auto& d : table) {
      if (d.stats.empty() || d.type == metric_type::histogram
          || stats_path(d.stats).first != group)
        continue;
      w.key(stats_path(d.stats).second);
      if (d.type == metric_type::labelled) {
        w.begin_object();
        for (auto& [labels, value] : d.labelled(m).snapshot()) {
          w.key(labels);
          w.value(value);
        }
        w.end_object();
        continue;
      }
      if (!d.label_of) {
        write_value(w, d.read(m, 0));
        continue;
      }
      w.begin_object();
      for (size_t i = 0; i < d.size; ++i)
        if (auto name = d.label_of(i); !name.empty()) {
          w.key(name);
          write_value(w, d.read(m, i));
        }
      w.end_object();
    }
    w.end_object();
  }
  for (auto& d : table)
    if (d.type == metric_type::histogram && !d.stats.empty())
      write_histogram(w.key(d.stats), d.histogram(m));
}

void write_prometheus(const metrics& m, std::string& out) {
  auto& table = metric_table();
  std::vector<std::string_view> done;
  for (auto& first : table) {
    if (first.prometheus.empty()
        || std::find(done.begin(), done.end(), first.prometheus) != done.end())
      continue;
    done.push_back(first.prometheus);
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", first.prometheus, first.help,
                       first.prometheus, type_name(first.type));
    for (auto& d : table)
      if (d.prometheus == first.prometheus)
        append_samples(out, m, d);
  }
}

} // namespace tickgate
