#include "net/kafka_routes.hpp"

#include <memory>

#include "proto/json_text.hpp"
#include "proto/payload.hpp"
#include "proto/topic_name.hpp"

namespace tickgate::net {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

// The variables a template may use.
constexpr std::string_view variables[] = {"{symbol}", "{userId}", "{type}"};

// True when every {...} in `tpl` is a known variable.
bool known_variables(std::string_view tpl) {
  for (size_t open = tpl.find('{'); open != std::string_view::npos; open = tpl.find('{', open + 1)) {
    bool known = false;
    for (auto v : variables)
      known = known || tpl.substr(open, v.size()) == v;
    if (!known)
      return false;
  }
  return true;
}

// A record's fields a template or the payload reads (views into the
// parser's document, valid until the next record).
struct record_fields {
  std::string_view type;
  std::optional<std::string> symbol; // text, or a number's digits
  std::optional<std::string> user_id;
  std::optional<simdjson::dom::element> symbol_value;
  std::optional<simdjson::dom::element> timestamp; // a number, or absent
  simdjson::dom::element data;
  bool has_data = false;
};

// Appends `e` as compact JSON, as simdjson::minify writes it but into the
// payload being built: a record's payload is made in one buffer instead
// of a temporary string per member.
void append_json(std::string& out, simdjson::dom::element e) {
  using simdjson::dom::element_type;
  switch (e.type()) {
  case element_type::ARRAY: {
    out += '[';
    bool first = true;
    for (auto v : simdjson::dom::array(e)) {
      if (!first)
        out += ',';
      first = false;
      append_json(out, v);
    }
    out += ']';
    break;
  }
  case element_type::OBJECT: {
    out += '{';
    bool first = true;
    for (auto field : simdjson::dom::object(e)) {
      if (!first)
        out += ',';
      first = false;
      json_text::append_string(out, field.key);
      out += ':';
      append_json(out, field.value);
    }
    out += '}';
    break;
  }
  case element_type::INT64:
    json_text::append_int(out, e.get_int64().value_unsafe());
    break;
  case element_type::UINT64:
    json_text::append_uint(out, e.get_uint64().value_unsafe());
    break;
  case element_type::DOUBLE:
    json_text::append_double(out, e.get_double().value_unsafe());
    break;
  case element_type::STRING:
    json_text::append_string(out, e.get_string().value_unsafe());
    break;
  case element_type::BOOL:
    out += e.get_bool().value_unsafe() ? "true" : "false";
    break;
  case element_type::NULL_VALUE:
    out += "null";
    break;
  }
}

// A string field's value, or an integer's digits; nothing for other types.
std::optional<std::string> text_of(simdjson::dom::element e) {
  if (std::string_view s; e.get_string().get(s) == simdjson::SUCCESS)
    return std::string{s};
  if (e.is_int64() || e.is_uint64()) {
    std::string digits;
    append_json(digits, e);
    return digits;
  }
  return std::nullopt;
}

// Fills `tpl`; nothing when the record lacks a variable it uses.
std::optional<std::string> fill(std::string_view tpl, const record_fields& r) {
  std::string out;
  out.reserve(tpl.size() + 16);
  for (size_t i = 0; i < tpl.size();) {
    if (tpl[i] != '{') {
      out += tpl[i++];
      continue;
    }
    auto rest = tpl.substr(i);
    std::string_view value;
    if (rest.starts_with("{symbol}")) {
      if (!r.symbol)
        return std::nullopt;
      value = *r.symbol;
    } else if (rest.starts_with("{userId}")) {
      if (!r.user_id)
        return std::nullopt;
      value = *r.user_id;
    } else {
      value = r.type;
    }
    if (value.empty())
      return std::nullopt;
    out += value;
    i = tpl.find('}', i) + 1;
  }
  return out;
}

// {"symbol":..., <data's members>, "timestamp":...}: what the MoonX gateway
// emits. The record's symbol and timestamp win over members of the same name.
std::string make_payload(const record_fields& r, int64_t now_us, size_t record_size) {
  std::string out;
  out.reserve(record_size + 32);
  out += '{';
  auto key = [&](std::string_view k) {
    if (out.size() > 1)
      out += ',';
    json_text::append_string(out, k);
    out += ':';
  };
  if (r.symbol_value) {
    key("symbol");
    append_json(out, *r.symbol_value);
  }
  if (simdjson::dom::object obj; r.data.get_object().get(obj) == simdjson::SUCCESS) {
    for (auto field : obj) {
      if (field.key == "symbol" || field.key == "timestamp" || field.key == "personal")
        continue;
      key(field.key);
      append_json(out, field.value);
    }
  } else {
    key("data");
    append_json(out, r.data);
  }
  key("timestamp");
  if (r.timestamp)
    append_json(out, *r.timestamp);
  else
    json_text::append_int(out, now_us / 1000);
  out += '}';
  return out;
}

} // namespace

std::optional<std::string> kafka_route::parse(std::string_view text, kafka_route& out) {
  out = kafka_route{};
  auto arrow = text.find("->");
  if (arrow == std::string_view::npos)
    return "expected '<kafka-topic>[/<type>] -> <target>[, ...] [as <event>]'";
  auto match = trim(text.substr(0, arrow));
  auto rest = trim(text.substr(arrow + 2));
  if (match.empty())
    return "no Kafka topic before '->' (use * for any)";
  auto slash = match.find('/');
  out.kafka_topic = std::string{trim(match.substr(0, slash))};
  if (slash != std::string_view::npos)
    out.type = std::string{trim(match.substr(slash + 1))};
  if (out.kafka_topic.empty() || out.type.empty())
    return "empty Kafka topic or type (use * for any)";
  if (auto as = rest.rfind(" as "); as != std::string_view::npos) {
    out.event = std::string{trim(rest.substr(as + 4))};
    rest = trim(rest.substr(0, as));
    if (!is_valid_event_name(out.event) || out.event.find(' ') != std::string::npos)
      return "bad event name '" + out.event + "'";
  }
  while (!rest.empty()) {
    auto comma = rest.find(',');
    auto spec = trim(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view{} : trim(rest.substr(comma + 1));
    kafka_route::target t;
    if (spec.ends_with(" personal")) {
      t.personal = true;
      spec = trim(spec.substr(0, spec.size() - 9));
    }
    t.topic = std::string{spec};
    if (t.topic != "*") {
      // The template's fixed characters must be topic characters.
      std::string probe = t.topic;
      for (auto v : variables)
        for (size_t p; (p = probe.find(v)) != std::string::npos;)
          probe.replace(p, v.size(), "x");
      if (!known_variables(t.topic) || !is_valid_topic(probe))
        return "bad target '" + t.topic + "' (a topic name with {symbol}, {userId}, {type}, or *)";
    }
    out.targets.push_back(std::move(t));
  }
  if (out.targets.empty())
    return "no target after '->'";
  return std::nullopt;
}

const std::vector<std::string>& default_kafka_routes() {
  static const std::vector<std::string> routes{
    "*/price_update -> price:{symbol} as price_update",
    "*/order_book_update -> orderbook:{symbol} as order_book_update",
    "*/trade_notification -> trade:{symbol}, user:{userId} personal as trade_notification",
    "*/portfolio_update -> user:{userId} as portfolio_update",
    "*/system_alert -> * as system_alert",
  };
  return routes;
}

kafka_record_router::kafka_record_router(std::vector<kafka_route> routes,
                                         size_t max_payload_bytes)
  : routes_(std::move(routes)), max_payload_bytes_(max_payload_bytes) {
}

std::optional<skip_reason> kafka_record_router::route(std::string_view kafka_topic,
                                                      std::string_view value, int64_t now_us,
                                                      routed_record& out) {
  if (value.size() > max_payload_bytes_)
    return skip_reason::oversize;
  simdjson::dom::element doc;
  if (parser_.parse(value.data(), value.size()).get(doc) != simdjson::SUCCESS)
    return skip_reason::not_json;
  simdjson::dom::object obj;
  if (doc.get_object().get(obj) != simdjson::SUCCESS)
    return skip_reason::not_json;
  record_fields r;
  for (auto field : obj) {
    if (field.key == "type") {
      (void)field.value.get_string().get(r.type);
    } else if (field.key == "symbol") {
      r.symbol = text_of(field.value);
      r.symbol_value = field.value;
    } else if (field.key == "userId") {
      r.user_id = text_of(field.value);
    } else if (field.key == "data") {
      r.data = field.value;
      r.has_data = true;
    } else if (field.key == "timestamp" && field.value.is_number()) {
      r.timestamp = field.value;
    }
  }
  const kafka_route* route = nullptr;
  for (auto& candidate : routes_)
    if ((candidate.kafka_topic == "*" || candidate.kafka_topic == kafka_topic)
        && (candidate.type == "*" || candidate.type == r.type)) {
      route = &candidate;
      break;
    }
  if (!route)
    return skip_reason::no_route;
  if (!r.has_data)
    return skip_reason::missing_field;
  std::string_view event = route->event.empty() ? r.type : std::string_view{route->event};
  if (!event.empty() && !is_valid_event_name(event))
    event = {}; // a record's type that is no event name: the namespace's name applies
  // Check every target before making anything: a record routes whole or not at all.
  auto& topics = topics_; // filled in, personal
  topics.clear();
  bool broadcast = false;
  for (auto& t : route->targets) {
    if (t.topic == "*") {
      broadcast = true;
      continue;
    }
    auto topic = fill(t.topic, r);
    if (!topic)
      continue; // the record lacks its variable: this target is left out
    if (!is_valid_topic(*topic))
      return skip_reason::bad_topic;
    topics.emplace_back(std::move(*topic), t.personal);
  }
  if (topics.empty() && !broadcast)
    return skip_reason::missing_field;
  auto payload = make_payload(r, now_us, value.size());
  if (broadcast)
    out.broadcasts.emplace_back(payload, std::string{event});
  for (size_t i = 0; i < topics.size(); ++i) {
    auto& [topic, personal] = topics[i];
    auto p = std::make_shared<publication>();
    p->topic = std::move(topic);
    // The last target takes the payload itself; the others copy it.
    p->payload = i + 1 == topics.size() ? std::move(payload) : payload;
    if (personal) {
      p->payload.back() = ',';
      p->payload += R"("personal":true})";
    }
    p->kind = payload_kind::json;
    p->ts_us = now_us;
    p->event = event;
    out.publications.push_back(std::move(p));
  }
  return std::nullopt;
}

} // namespace tickgate::net
