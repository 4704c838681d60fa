// The action, stream and typed-envelope protocols: decoders and encoders.
#include <algorithm>
#include <cctype>

#include <simdjson.h>

#include "proto/dialect_settings.hpp"
#include "proto/frame_codec.hpp"
#include "proto/json_text.hpp"
#include "proto/topic_name.hpp"

namespace tickgate {

namespace {

int64_t now_ms() { return now_us() / 1000; }

// Client text quoted in an error message: at most 64 bytes, whole characters.
std::string quote_cut(std::string_view s) {
  return std::string{json_text::utf8_prefix(s, 64)};
}

void append_ts(std::string& out) {
  out += R"(,"timestamp":)";
  json_text::append_int(out, now_ms());
}

void append_string_array(std::string& out, std::span<const std::string> items) {
  out += '[';
  for (size_t i = 0; i < items.size(); ++i) {
    if (i)
      out += ',';
    json_text::append_string(out, items[i]);
  }
  out += ']';
}

client_error make_error(wire_format f, error_code code, std::string message,
                        std::string echo = {}) {
  client_error e;
  e.code = code;
  e.message = std::move(message);
  e.format = f;
  e.ctx.echo = std::move(echo);
  return e;
}

// Symbols as the action protocol and typed envelope use them: upper-cased,
// 1-64 characters; the topic is `templ` with the symbol filled in.
std::optional<std::string> symbol_topic(std::string& symbol, std::string_view templ) {
  if (symbol.empty() || symbol.size() > 64)
    return std::nullopt;
  std::transform(symbol.begin(), symbol.end(), symbol.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return dialect_settings::expand(templ, symbol);
}

// Reads `symbols` (array of strings) into cmd.names/topics; error text or "".
std::string read_symbols(simdjson::dom::element field, std::string_view templ,
                         client_command& cmd) {
  simdjson::dom::array arr;
  if (field.get_array().get(arr) || arr.size() == 0)
    return "Symbols must be a non-empty array of strings";
  if (arr.size() > max_topics_per_request)
    return "Too many symbols in one request";
  for (auto item : arr) {
    std::string_view sv;
    if (item.get_string().get(sv))
      return "Symbols must be a non-empty array of strings";
    std::string symbol{sv};
    auto topic = symbol_topic(symbol, templ);
    if (!topic)
      return "Invalid symbol: " + quote_cut(sv);
    if (std::find(cmd.topics.begin(), cmd.topics.end(), *topic) != cmd.topics.end())
      continue;
    cmd.names.push_back(std::move(symbol));
    cmd.topics.push_back(std::move(*topic));
  }
  return {};
}

// The error for a read_symbols failure: a bad symbol is an invalid topic,
// anything else a bad request.
client_error symbols_error(wire_format f, std::string message, std::string echo = {}) {
  auto code = message.rfind("Invalid symbol", 0) == 0 ? error_code::invalid_topic
                                                      : error_code::bad_request;
  return make_error(f, code, std::move(message), std::move(echo));
}

bool parse_object(simdjson::dom::parser& parser, std::string_view bytes,
                  simdjson::dom::object& obj) {
  simdjson::dom::element doc;
  return !parser.parse(bytes.data(), bytes.size(), true).get(doc)
         && !doc.get_object().get(obj);
}

} // namespace

void append_payload_value(std::string& out, std::string_view payload,
                          payload_kind kind) {
  switch (kind) {
    case payload_kind::json:
      out += payload;
      break;
    case payload_kind::text:
      json_text::append_string(out, payload);
      break;
    case payload_kind::binary:
      out += '"';
      json_text::append_base64(out, payload);
      out += '"';
      break;
  }
}

// -- action protocol ---------------------------------------------------------

decoded_frame decode_action_frame(std::string_view bytes) {
  thread_local simdjson::dom::parser parser;
  constexpr wire_format fmt{dialect::action};
  simdjson::dom::object obj;
  if (!parse_object(parser, bytes, obj))
    return make_error(fmt, error_code::bad_request, "Invalid message format");
  std::string_view action;
  simdjson::dom::element field;
  if (obj["action"].get(field) || field.get_string().get(action))
    return make_error(fmt, error_code::bad_request, "Missing action");
  client_command cmd;
  cmd.format = fmt;
  cmd.ctx.verb = std::string{action};
  if (action == "ping") {
    cmd.op = client_op::ping;
    return cmd;
  }
  if (action != "subscribe" && action != "unsubscribe")
    return make_error(fmt, error_code::unknown_op,
                      "Unknown action: " + quote_cut(action));
  cmd.op = action == "subscribe" ? client_op::subscribe : client_op::unsubscribe;
  if (obj["symbols"].get(field))
    return make_error(fmt, error_code::bad_request,
                      "Symbols must be a non-empty array of strings");
  if (auto msg = read_symbols(field, dialects().action_topic, cmd); !msg.empty())
    return symbols_error(fmt, std::move(msg));
  return cmd;
}

// -- stream protocol ---------------------------------------------------------

namespace {

// Update speeds a stream name may end with (Binance's `depth@X@100ms`): the
// subscription is conflated to at most one event per interval. Index i + 1
// is the wire_format style of such a subscription, so its events are named
// as the client named the stream.
struct stream_speed {
  std::string_view suffix;
  uint32_t throttle_ms;
};
constexpr stream_speed stream_speeds[] = {{"@100ms", 100}, {"@1000ms", 1000}};

// Splits a stream name into its topic and update speed style (0: none).
std::pair<std::string_view, uint8_t> split_stream_name(std::string_view name) {
  for (size_t i = 0; i < std::size(stream_speeds); ++i) {
    auto suffix = stream_speeds[i].suffix;
    if (name.size() > suffix.size() && name.substr(name.size() - suffix.size()) == suffix)
      return {name.substr(0, name.size() - suffix.size()), static_cast<uint8_t>(i + 1)};
  }
  return {name, 0};
}

} // namespace

std::string_view stream_speed_suffix(const wire_format& f) {
  if (f.kind != dialect::stream || f.style == 0 || f.style > std::size(stream_speeds))
    return {};
  return stream_speeds[f.style - 1].suffix;
}

decoded_frame decode_stream_frame(std::string_view bytes) {
  thread_local simdjson::dom::parser parser;
  constexpr wire_format fmt{dialect::stream};
  simdjson::dom::object obj;
  if (!parse_object(parser, bytes, obj))
    return make_error(fmt, error_code::bad_request, "Invalid JSON");
  simdjson::dom::element field;
  std::string echo = "null";
  if (!obj["id"].get(field)) {
    if (!field.is_int64() && !field.is_uint64() && !field.is_string() && !field.is_null())
      return make_error(fmt, error_code::bad_request,
                        "Invalid request: 'id' must be an integer or a string");
    echo = simdjson::minify(field);
  }
  std::string_view method;
  if (obj["method"].get(field) || field.get_string().get(method))
    return make_error(fmt, error_code::bad_request, "Invalid request: missing 'method'", echo);
  client_command cmd;
  cmd.format = fmt;
  cmd.ctx.echo = echo;
  if (method == "LIST_SUBSCRIPTIONS") {
    cmd.op = client_op::list;
    return cmd;
  }
  if (method != "SUBSCRIBE" && method != "UNSUBSCRIBE")
    return make_error(fmt, error_code::unknown_op,
                      "Invalid request: unknown method " + quote_cut(method),
                      echo);
  cmd.op = method == "SUBSCRIBE" ? client_op::subscribe : client_op::unsubscribe;
  simdjson::dom::array params;
  if (obj["params"].get(field) || field.get_array().get(params) || params.size() == 0)
    return make_error(fmt, error_code::bad_request,
                      "Invalid request: 'params' must be a non-empty array of stream names",
                      echo);
  if (params.size() > max_topics_per_request)
    return make_error(fmt, error_code::bad_request, "Invalid request: too many streams", echo);
  std::optional<uint8_t> speed; // of the first stream; one per subscribe request
  for (auto item : params) {
    std::string_view name;
    if (item.get_string().get(name))
      return make_error(fmt, error_code::bad_request,
                        "Invalid request: stream names must be strings", echo);
    auto [topic, style] = split_stream_name(name);
    if (!is_valid_topic(topic))
      return make_error(fmt, error_code::invalid_topic,
                        "Invalid request: bad stream name", echo);
    if (cmd.op == client_op::subscribe) {
      if (speed && *speed != style)
        return make_error(fmt, error_code::bad_request,
                          "Invalid request: all streams of one SUBSCRIBE must have the same "
                          "update speed (no suffix, @100ms or @1000ms)",
                          echo);
      speed = style;
    }
    if (std::find(cmd.topics.begin(), cmd.topics.end(), topic) == cmd.topics.end()) {
      cmd.topics.emplace_back(topic);
      cmd.names.emplace_back(name);
    }
  }
  if (speed && *speed != 0) {
    cmd.format.style = *speed;
    cmd.options.throttle_ms = stream_speeds[*speed - 1].throttle_ms;
  }
  return cmd;
}

// -- typed envelope ----------------------------------------------------------

decoded_frame decode_typed_frame(std::string_view bytes) {
  thread_local simdjson::dom::parser parser;
  constexpr wire_format fmt{dialect::typed};
  simdjson::dom::object obj;
  if (!parse_object(parser, bytes, obj))
    return make_error(fmt, error_code::bad_request, "Invalid message format");
  simdjson::dom::element field;
  std::string echo;
  if (!obj["id"].get(field) && (field.is_string() || field.is_number()))
    echo = simdjson::minify(field);
  std::string_view type;
  if (obj["type"].get(field) || field.get_string().get(type))
    return make_error(fmt, error_code::bad_request, "Missing message type", echo);
  client_command cmd;
  cmd.format = fmt;
  cmd.ctx.echo = echo;
  simdjson::dom::element data;
  bool has_data = !obj["data"].get(data);
  if (type == "ping") {
    cmd.op = client_op::ping;
    simdjson::dom::element ts;
    cmd.ctx.verb = has_data && !data["timestamp"].get(ts) ? simdjson::minify(ts) : "";
    return cmd;
  }
  if (type != "subscribe" && type != "unsubscribe")
    return make_error(fmt, error_code::unknown_op,
                      "Unknown message type: " + quote_cut(type), echo);
  cmd.op = type == "subscribe" ? client_op::subscribe : client_op::unsubscribe;
  simdjson::dom::element symbols;
  if (!has_data || data["symbols"].get(symbols))
    return make_error(fmt, error_code::bad_request,
                      "data.symbols must be a non-empty array of strings", echo);
  if (auto msg = read_symbols(symbols, dialects().typed_topic, cmd); !msg.empty())
    return symbols_error(fmt, std::move(msg), echo);
  return cmd;
}

std::string encode_typed_connection(std::string_view client_id) {
  std::string out = R"({"type":"connection","data":{"clientId":)";
  json_text::append_string(out, client_id);
  out += R"(,"message":"Connected to tickgate"})";
  append_ts(out);
  out += '}';
  return out;
}

// -- encoders shared by the three -------------------------------------------

namespace seed {

std::string event(const wire_format& f, const event_fields& ev) {
  std::string out;
  out.reserve(ev.payload.size() + ev.topic.size() + 64);
  if (f.kind == dialect::stream) {
    out += R"({"stream":")";
    out += ev.topic;
    out += stream_speed_suffix(f);
    out += R"(","data":)";
    append_payload_value(out, ev.payload, ev.kind);
    out += '}';
    return out;
  }
  out += R"({"type":)";
  json_text::append_string(out, f.kind == dialect::action ? dialects().action_event_type
                                                          : dialects().typed_event_type);
  out += R"(,"data":)";
  append_payload_value(out, ev.payload, ev.kind);
  out += R"(,"timestamp":)";
  json_text::append_int(out, ev.ts_us / 1000);
  out += '}';
  return out;
}

std::string ack(const reply_to& to, client_op op, std::span<const std::string> names,
                std::span<const std::string> current) {
  std::string out;
  switch (to.format.kind) {
    case dialect::action: {
      bool sub = op == client_op::subscribe;
      out = R"({"type":"success","message":")";
      out += sub ? "Successfully subscribed to " : "Successfully unsubscribed from ";
      json_text::append_uint(out, names.size());
      out += sub ? R"x( symbol(s)","data":{"subscribed":)x"
                 : R"x( symbol(s)","data":{"unsubscribed":)x";
      append_string_array(out, names);
      out += R"(,"currentSubscriptions":)";
      append_string_array(out, current);
      out += '}';
      append_ts(out);
      out += '}';
      return out;
    }
    case dialect::stream:
      out = R"({"result":)";
      if (op == client_op::list)
        append_string_array(out, current);
      else
        out += "null";
      out += R"(,"id":)";
      out += to.ctx.echo.empty() ? "null" : to.ctx.echo;
      out += '}';
      return out;
    default: // typed
      out = op == client_op::subscribe ? R"({"type":"subscribed","data":{"symbols":)"
                                       : R"({"type":"unsubscribed","data":{"symbols":)";
      append_string_array(out, names);
      out += '}';
      append_ts(out);
      if (!to.ctx.echo.empty())
        out += R"(,"id":)" + to.ctx.echo;
      out += '}';
      return out;
  }
}

std::string error(const reply_to& to, error_code code, std::string_view message) {
  std::string out;
  switch (to.format.kind) {
    case dialect::action:
      out = R"({"type":"error","message":)";
      json_text::append_string(out, message);
      append_ts(out);
      out += '}';
      return out;
    case dialect::stream: {
      // Exchange-style codes: 1 invalid value type, 2 invalid request, 3 invalid JSON.
      int n = code == error_code::bad_request && message == "Invalid JSON" ? 3
              : code == error_code::invalid_topic                         ? 1
                                                                          : 2;
      out = R"({"error":{"code":)";
      json_text::append_int(out, n);
      out += R"(,"msg":)";
      json_text::append_string(out, message);
      out += R"(},"id":)";
      out += to.ctx.echo.empty() ? "null" : to.ctx.echo;
      out += '}';
      return out;
    }
    default: // typed
      out = R"({"type":"error","data":{"message":)";
      json_text::append_string(out, message);
      out += R"(,"code":")";
      out += to_string(code);
      out += "\"}";
      append_ts(out);
      if (!to.ctx.echo.empty())
        out += R"(,"id":)" + to.ctx.echo;
      out += '}';
      return out;
  }
}

std::string pong(const reply_to& to, int64_t ts_us) {
  std::string out;
  if (to.format.kind == dialect::typed) {
    out = R"({"type":"pong","data":{"timestamp":)";
    out += to.ctx.verb.empty() ? std::to_string(ts_us / 1000) : to.ctx.verb;
    out += '}';
    append_ts(out);
    if (!to.ctx.echo.empty())
      out += R"(,"id":)" + to.ctx.echo;
    out += '}';
    return out;
  }
  out = R"({"type":"pong","timestamp":)"; // action (the stream protocol has no ping op)
  json_text::append_int(out, ts_us / 1000);
  out += '}';
  return out;
}

std::string status(const wire_format& f, std::string_view topic, std::string_view state,
                   std::string_view message) {
  std::string out;
  if (f.kind == dialect::stream) {
    out = R"({"stream":")";
    out += topic;
    out += stream_speed_suffix(f);
    out += R"(","status":{"state":")";
    out += state;
    out += R"(","message":)";
    json_text::append_string(out, message);
    out += "}}";
    return out;
  }
  out = R"({"type":"status","data":{"topic":")";
  out += topic;
  out += R"(","state":")";
  out += state;
  out += R"(","message":)";
  json_text::append_string(out, message);
  out += '}';
  append_ts(out);
  out += '}';
  return out;
}

} // namespace seed

} // namespace tickgate
