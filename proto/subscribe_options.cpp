#include "proto/subscribe_options.hpp"

#include <unordered_map>
#include <vector>

#include "proto/json_text.hpp"

namespace tickgate {

namespace {

constexpr std::string_view option_fields[] = {"since", "last", "snapshot", "throttle_ms"};

std::string last_range_message() {
  return "'last' must be an integer from 1 to " + std::to_string(max_last_events);
}

std::string throttle_range_message() {
  return "'throttle_ms' must be an integer from " + std::to_string(min_throttle_ms) + " to "
         + std::to_string(max_throttle_ms);
}

std::string epoch_message(std::string_view key) {
  return "'since' entry " + json_text::quote_for_message(key)
         + ": 'epoch' must be a string of at most " + std::to_string(max_epoch_length)
         + " bytes";
}

// One `"<topic>":{"epoch":"E","seq":S}` member of `since`.
std::string read_since_entry(std::string_view key, simdjson::dom::element value,
                             subscribe_options& out) {
  simdjson::dom::object pos;
  if (value.get_object().get(pos))
    return "'since' entry " + json_text::quote_for_message(key)
           + R"( must be an object {"epoch":"E","seq":S})";
  simdjson::dom::element field;
  std::string_view epoch;
  if (pos["epoch"].get(field) || field.get_string().get(epoch))
    return epoch_message(key);
  uint64_t seq = 0;
  if (pos["seq"].get(field) || field.get_uint64().get(seq))
    return "'since' entry " + json_text::quote_for_message(key)
           + ": 'seq' must be a non-negative integer";
  out.since.emplace_back(std::string{key}, stream_position{std::string{epoch}, seq});
  return {};
}

} // namespace

std::optional<std::string_view> find_subscribe_option(simdjson::dom::object obj) {
  simdjson::dom::element field;
  for (auto name : option_fields)
    if (!obj[name].get(field))
      return name;
  return std::nullopt;
}

std::string read_subscribe_options(simdjson::dom::object obj, subscribe_options& out) {
  simdjson::dom::element field;
  if (!obj["since"].get(field)) {
    simdjson::dom::object since;
    if (field.get_object().get(since))
      return R"('since' must be an object {"<topic>":{"epoch":"E","seq":S},...})";
    for (auto [key, value] : since) {
      // Each key must name one of the request's topics (resolve_since), so
      // more keys than a request may hold can never all be right.
      if (out.since.size() == max_topics_per_request)
        return "'since' names more topics than one request may hold ("
               + std::to_string(max_topics_per_request) + ")";
      if (auto msg = read_since_entry(key, value, out); !msg.empty())
        return msg;
    }
  }
  if (!obj["last"].get(field)) {
    uint64_t n = 0;
    if (field.get_uint64().get(n) || n < 1 || n > max_last_events)
      return last_range_message();
    out.last = static_cast<uint32_t>(n);
  }
  if (!obj["snapshot"].get(field) && field.get_bool().get(out.snapshot))
    return "'snapshot' must be true or false";
  if (!obj["throttle_ms"].get(field)) {
    uint64_t ms = 0;
    if (field.get_uint64().get(ms) || ms < min_throttle_ms || ms > max_throttle_ms)
      return throttle_range_message();
    out.throttle_ms = static_cast<uint32_t>(ms);
  }
  return check_subscribe_options(out);
}

std::string check_subscribe_options(const subscribe_options& opts) {
  for (auto& [key, pos] : opts.since)
    if (pos.epoch.size() > max_epoch_length)
      return epoch_message(key);
  if (opts.last > max_last_events)
    return last_range_message();
  if (opts.throttle_ms != 0
      && (opts.throttle_ms < min_throttle_ms || opts.throttle_ms > max_throttle_ms))
    return throttle_range_message();
  if (opts.last != 0 && opts.snapshot)
    return "last and snapshot exclude each other";
  return {};
}

std::string resolve_since(subscribe_options& opts, std::span<const std::string> names,
                          std::span<const std::string> topics) {
  if (opts.since.empty())
    return {};
  std::unordered_map<std::string_view, std::vector<size_t>> by_name;
  for (size_t i = 0; i < names.size(); ++i)
    by_name[names[i]].push_back(i);
  std::unordered_map<std::string_view, size_t> by_topic;
  for (size_t i = 0; i < topics.size(); ++i)
    by_topic.emplace(topics[i], i);
  constexpr size_t none = static_cast<size_t>(-1);
  std::vector<size_t> entry_of(topics.size(), none); // topic index -> since index
  auto claim = [&](size_t topic, size_t entry) {
    if (entry_of[topic] != none)
      return false;
    entry_of[topic] = entry;
    return true;
  };
  for (size_t k = 0; k < opts.since.size(); ++k) {
    auto& key = opts.since[k].first;
    bool ok = true;
    if (auto n = by_name.find(key); n != by_name.end()) {
      for (auto i : n->second)
        ok &= claim(i, k);
    } else if (auto t = by_topic.find(key); t != by_topic.end()) {
      ok = claim(t->second, k);
    } else {
      return "'since' names " + json_text::quote_for_message(key)
             + ", which is not one of the request's topics";
    }
    if (!ok)
      return "'since' gives " + json_text::quote_for_message(key)
             + " more than one position";
  }
  std::vector<std::pair<std::string, stream_position>> resolved;
  resolved.reserve(opts.since.size());
  for (size_t i = 0; i < topics.size(); ++i)
    if (entry_of[i] != none)
      resolved.emplace_back(topics[i], opts.since[entry_of[i]].second);
  opts.since = std::move(resolved);
  return {};
}

void append_positions(std::string& out, std::span<const topic_position> positions) {
  if (positions.empty())
    return;
  out += R"(,"positions":{)";
  bool any_recovered = false;
  for (size_t i = 0; i < positions.size(); ++i) {
    auto& p = positions[i];
    if (i > 0)
      out += ',';
    json_text::append_string(out, p.name);
    out += R"(:{"epoch":)";
    json_text::append_string(out, p.epoch);
    out += R"(,"seq":)";
    json_text::append_uint(out, p.seq);
    out += '}';
    any_recovered |= p.recovered.has_value();
  }
  out += '}';
  if (!any_recovered)
    return;
  out += R"(,"recovered":{)";
  bool first = true;
  for (auto& p : positions) {
    if (!p.recovered)
      continue;
    if (!first)
      out += ',';
    first = false;
    json_text::append_string(out, p.name);
    out += *p.recovered ? ":true" : ":false";
  }
  out += '}';
}

} // namespace tickgate
