#include "proto/socketio_codec.hpp"

#include <charconv>

#include <simdjson.h>

#include "proto/dialect_settings.hpp"
#include "proto/emitter_packet.hpp"
#include "proto/json_text.hpp"
#include "proto/socketio_admin.hpp"
#include "proto/subscribe_options.hpp"
#include "proto/topic_name.hpp"

namespace tickgate {

namespace socketio {

std::string packet_prefix(char type, uint8_t ns) {
  std::string out{'4', type};
  auto& names = dialects().namespaces;
  if (ns < names.size() && names[ns] != "/") {
    out += names[ns];
    out += ',';
  }
  return out;
}

std::string emit_packet(uint8_t ns, std::string_view name, std::string_view json) {
  auto out = packet_prefix('2', ns);
  out += '[';
  json_text::append_string(out, name);
  out += ',';
  out += json;
  out += ']';
  return out;
}

namespace {

std::string ack_packet(uint8_t ns, uint64_t ack_id, const std::string& json_arg) {
  auto out = packet_prefix('3', ns);
  json_text::append_uint(out, ack_id);
  out += '[';
  out += json_arg;
  out += ']';
  return out;
}

std::string string_array(std::span<const std::string> items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i)
      out += ',';
    json_text::append_string(out, items[i]);
  }
  return out + "]";
}

bool is_room_verb(std::string_view verb) {
  return verb == "join_room" || verb == "leave_room";
}

} // namespace

std::string event(const wire_format& f, const event_fields& ev) {
  auto out = packet_prefix('2', f.ns);
  out.reserve(out.size() + ev.payload.size() + 32);
  out += "[";
  // A publication's own event name wins over the namespace's name for the topic.
  if (ev.event.empty())
    json_text::append_string(out, dialects().socketio_event(ev.topic, f.style));
  else
    json_text::append_string(out, ev.event);
  // Several arguments: the payload's array, spread ("[a,b]" -> ,a,b).
  if (ev.spread_args && ev.payload.size() >= 2) {
    auto inner = ev.payload.substr(1, ev.payload.size() - 2);
    if (inner.find_first_not_of(" \t\r\n") != std::string_view::npos) {
      out += ',';
      out += inner;
    }
    out += ']';
    return out;
  }
  out += ',';
  append_payload_value(out, ev.payload, ev.kind);
  out += ']';
  return out;
}

std::vector<std::string> ack(const reply_to& to, client_op op,
                             std::span<const std::string> names,
                             std::span<const topic_position> positions) {
  std::vector<std::string> out;
  auto& verb = to.ctx.verb;
  if (verb == "disconnect")
    return out; // the namespace is gone: nobody to tell
  if (verb == "authenticated") {
    out.push_back(emit_packet(to.format.ns, "connection.authenticated", to.ctx.echo));
    return out;
  }
  // A market subscribe names symbols and channels (echoed) and the rooms;
  // other commands may echo something else (a CONNECT its session id).
  bool market = (verb == "subscribe" || verb == "unsubscribe") && !to.ctx.echo.empty();
  std::string body;
  if (is_room_verb(verb)) {
    body = R"({"success":true,"room":)";
    json_text::append_string(body, names.empty() ? std::string{} : names.front());
  } else if (market) {
    body = R"({"success":true,)" + to.ctx.echo + R"(,"rooms":)" + string_array(names);
  } else {
    body = R"({"success":true,"symbols":)" + string_array(names);
  }
  if (op == client_op::subscribe)
    append_positions(body, positions);
  body += '}';
  if (to.ctx.ack_id)
    out.push_back(ack_packet(to.format.ns, *to.ctx.ack_id, body));
  if (!is_room_verb(verb)) {
    std::string confirmed = R"({"action":)";
    json_text::append_string(confirmed, op == client_op::subscribe ? "subscribe" : "unsubscribe");
    if (market)
      confirmed += "," + to.ctx.echo + R"(,"rooms":)" + string_array(names) + "}";
    else
      confirmed += R"(,"symbols":)" + string_array(names) + "}";
    out.push_back(emit_packet(to.format.ns, "subscription.confirmed", confirmed));
  }
  return out;
}

std::string error(const reply_to& to, error_code code, std::string_view message) {
  std::string body = R"({"success":false,"error":)";
  json_text::append_string(body, message);
  body += R"(,"code":")";
  body += to_string(code);
  body += "\"}";
  if (to.ctx.ack_id)
    return ack_packet(to.format.ns, *to.ctx.ack_id, body);
  std::string msg = R"({"message":)";
  json_text::append_string(msg, message);
  msg += R"(,"code":")";
  msg += to_string(code);
  msg += "\"}";
  return emit_packet(to.format.ns, "error", msg);
}

std::string pong(const reply_to& to, int64_t ts_us) {
  std::string body = R"({"timestamp":)";
  json_text::append_int(body, ts_us / 1000);
  body += '}';
  if (to.ctx.ack_id)
    return ack_packet(to.format.ns, *to.ctx.ack_id, body);
  return emit_packet(to.format.ns, "pong", body);
}

std::string status(const wire_format& f, std::string_view topic, std::string_view state,
                   std::string_view message) {
  std::string body = R"({"topic":")";
  body += topic;
  body += R"(","state":")";
  body += state;
  body += R"(","message":)";
  json_text::append_string(body, message);
  body += '}';
  return emit_packet(f.ns, "status", body);
}

std::vector<std::string> connected(uint8_t ns, std::string_view sid) {
  std::string ok = packet_prefix('0', ns) + R"({"sid":)";
  json_text::append_string(ok, sid);
  ok += '}';
  std::string hello = packet_prefix('2', ns) + R"(["connected",{"sid":)";
  json_text::append_string(hello, sid);
  hello += R"(,"namespace":)";
  auto& names = dialects().namespaces;
  json_text::append_string(hello, ns < names.size() ? names[ns] : std::string{"/"});
  hello += "}]";
  return {std::move(ok), std::move(hello)};
}

std::string connect_error(uint8_t ns, error_code code, std::string_view message) {
  std::string out = packet_prefix('4', ns) + R"({"message":)";
  json_text::append_string(out, message);
  out += R"(,"data":{"code":")";
  out += to_string(code);
  out += "\"}}";
  return out;
}

std::string disconnect(uint8_t ns) {
  return packet_prefix('1', ns);
}

std::string authenticated_body(std::string_view user, std::string_view role,
                               std::span<const std::string> rooms) {
  std::string out = R"({"userId":)";
  json_text::append_string(out, user);
  if (!role.empty()) {
    out += R"(,"role":)";
    json_text::append_string(out, role);
  }
  out += R"(,"rooms":)" + string_array(rooms) + "}";
  return out;
}

} // namespace socketio

namespace {

// Client text quoted in an error message: at most 64 bytes, whole characters.
std::string quote_cut(std::string_view s) {
  return std::string{json_text::utf8_prefix(s, 64)};
}

// The market namespace's subscribe: one room per symbol and channel, the
// channels from the argument's "channels" (a string or an array; all of
// them when absent). Fills cmd.topics, cmd.names (the rooms) and ctx.echo;
// returns an error message or "".
std::string market_rooms(const simdjson::dom::element* arg,
                         const std::vector<std::string_view>& symbols, client_command& cmd) {
  auto& all = dialects().market_channels;
  auto expected = [&] {
    std::string list;
    for (auto& c : all)
      list += (list.empty() ? "" : ", ") + c;
    return " (expected " + list + ")";
  };
  std::vector<std::string_view> channels;
  simdjson::dom::element given;
  if (arg && arg->is_object() && !(*arg)["channels"].get(given)) {
    std::string_view one;
    simdjson::dom::array arr;
    if (!given.get_string().get(one)) {
      channels.push_back(one);
    } else if (!given.get_array().get(arr)) {
      for (auto item : arr) {
        if (item.get_string().get(one))
          return "channels must be strings" + expected();
        if (std::find(channels.begin(), channels.end(), one) == channels.end())
          channels.push_back(one);
      }
    }
    if (channels.empty())
      return "channels must name at least one channel" + expected();
    for (auto c : channels)
      if (std::find(all.begin(), all.end(), c) == all.end())
        return "unknown channel " + quote_cut(c) + expected();
  } else {
    channels.assign(all.begin(), all.end());
  }
  std::vector<std::string> symbol_list, channel_list{channels.begin(), channels.end()};
  for (auto s : symbols) {
    for (auto c : channels) {
      auto room = dialects().market_room(c, s);
      if (!room || s.empty() || s.size() > 64)
        return "invalid symbol " + quote_cut(s);
      if (std::find(cmd.topics.begin(), cmd.topics.end(), *room) != cmd.topics.end())
        continue;
      cmd.topics.push_back(*room);
      cmd.names.push_back(std::move(*room));
    }
    if (std::find(symbol_list.begin(), symbol_list.end(), s) == symbol_list.end())
      symbol_list.emplace_back(s);
  }
  if (cmd.topics.size() > max_topics_per_request)
    return "at most " + std::to_string(max_topics_per_request) + " rooms per request";
  cmd.ctx.echo = R"("symbols":)" + socketio::string_array(symbol_list) + R"(,"channels":)"
                 + socketio::string_array(channel_list);
  return {};
}

} // namespace

socketio_decoder::socketio_decoder(decoder_options options)
  : options_(std::move(options)) {
}

std::vector<std::string> socketio_decoder::on_open() {
  std::string open = R"(0{"sid":)";
  json_text::append_string(open, options_.session_id);
  open += options_.upgradable ? R"(,"upgrades":["websocket"],"pingInterval":)"
                              : R"(,"upgrades":[],"pingInterval":)";
  json_text::append_int(open, options_.ping_interval_ms);
  open += R"(,"pingTimeout":)";
  json_text::append_int(open, options_.ping_timeout_ms);
  open += R"(,"maxPayload":)";
  json_text::append_uint(open, options_.max_payload);
  open += '}';
  return {open};
}

decoder_output socketio_decoder::decode(std::string_view bytes, bool binary) {
  decoder_output out;
  if (binary) {
    client_error e{error_code::unsupported, "binary packets are not supported", {},
                   wire_format{dialect::socketio}, {}};
    out.frames.emplace_back(std::move(e));
    return out;
  }
  if (bytes.empty()) {
    out.close = true;
    return out;
  }
  switch (bytes[0]) {
    case '3': // pong
      out.pong = true;
      break;
    case '2': // a client ping (Engine.IO v3 habit): answer, count as alive
      out.replies.emplace_back("3");
      out.pong = true;
      break;
    case '1': // close
      out.close = true;
      break;
    case '6': // noop
      break;
    case '4':
      on_packet(bytes.substr(1), out);
      break;
    default:
      out.close = true; // not Engine.IO: the transport is broken
  }
  return out;
}

void socketio_decoder::on_packet(std::string_view p, decoder_output& out) {
  auto fail = [&](uint8_t ns, std::string msg) {
    out.frames.emplace_back(client_error{error_code::bad_request, std::move(msg), {},
                                         wire_format{dialect::socketio, false, ns, 0}, {}});
  };
  if (p.empty() || p[0] < '0' || p[0] > '6') {
    fail(0, "malformed Socket.IO packet");
    return;
  }
  char type = p[0];
  size_t i = 1;
  std::string_view ns_name = "/";
  if (i < p.size() && p[i] == '/') {
    auto comma = p.find(',', i);
    ns_name = p.substr(i, comma == std::string_view::npos ? std::string_view::npos : comma - i);
    i = comma == std::string_view::npos ? p.size() : comma + 1;
  }
  std::optional<uint64_t> ack;
  size_t digits = i;
  while (digits < p.size() && digits - i < 19 && p[digits] >= '0' && p[digits] <= '9')
    ++digits;
  if (digits > i) {
    uint64_t v = 0;
    std::from_chars(p.data() + i, p.data() + digits, v);
    ack = v;
    i = digits;
  }
  auto json = p.substr(i);
  auto ns = dialects().namespace_index(ns_name);
  switch (type) {
    case '0': { // CONNECT
      if (!ns) {
        std::string err = "44";
        if (ns_name != "/") {
          err += ns_name;
          err += ',';
        }
        err += R"({"message":"Invalid namespace"})";
        out.replies.push_back(std::move(err));
        return;
      }
      // The connection actor admits the namespace (it knows the client's
      // identity and which namespaces need a role) and sends the CONNECT
      // reply; the handshake's auth.token travels with the request.
      thread_local simdjson::dom::parser parser;
      simdjson::dom::element doc;
      std::string_view token;
      client_command cmd;
      cmd.op = client_op::auth;
      cmd.format = wire_format{dialect::socketio, false, *ns, 0};
      cmd.ctx.verb = "connect";
      cmd.ctx.echo = options_.session_id + "#" + std::to_string(*ns);
      if (!json.empty() && !parser.parse(json.data(), json.size(), true).get(doc)
          && !doc["token"].get_string().get(token))
        cmd.token = std::string{token};
      connected_[*ns] = true;
      out.frames.emplace_back(std::move(cmd));
      return;
    }
    case '1': { // DISCONNECT of one namespace: the actor leaves its rooms (and its admin role)
      if (!ns || !connected_[*ns])
        return;
      connected_[*ns] = false;
      client_command cmd;
      cmd.op = client_op::unsubscribe;
      cmd.format = wire_format{dialect::socketio, false, *ns, 0};
      cmd.ctx.verb = "disconnect";
      out.frames.emplace_back(std::move(cmd));
      return;
    }
    case '2': // EVENT
      if (!ns || !connected_[*ns]) {
        fail(ns.value_or(0), "namespace not connected");
        return;
      }
      on_event(*ns, ack, json, out);
      return;
    default: // ACKs from the client and binary packets: nothing to do
      return;
  }
}

void socketio_decoder::on_event(uint8_t ns, std::optional<uint64_t> ack,
                                std::string_view json, decoder_output& out) {
  thread_local simdjson::dom::parser parser;
  wire_format fmt{dialect::socketio, false, ns, 0};
  auto fail = [&](error_code code, std::string msg, std::string verb = {}) {
    client_error e{code, std::move(msg), {}, fmt, {}};
    e.ctx.ack_id = ack;
    e.ctx.verb = std::move(verb);
    out.frames.emplace_back(std::move(e));
  };
  simdjson::dom::element doc;
  simdjson::dom::array args;
  std::string_view name;
  if (parser.parse(json.data(), json.size(), true).get(doc) || doc.get_array().get(args)
      || args.size() == 0 || args.at(0).get_string().get(name)) {
    fail(error_code::bad_request, "an event is a JSON array [name, ...args]");
    return;
  }
  simdjson::dom::element arg;
  bool has_arg = !args.at(1).get(arg);
  client_command cmd;
  cmd.ctx.ack_id = ack;
  cmd.ctx.verb = std::string{name};
  std::optional<simdjson::dom::object> options; // the argument object, if it is one
  if (name == "ping") {
    cmd.op = client_op::ping;
    cmd.format = fmt;
    out.frames.emplace_back(std::move(cmd));
    return;
  }
  if (name == "subscribe" || name == "unsubscribe") {
    cmd.op = name == "subscribe" ? client_op::subscribe : client_op::unsubscribe;
    cmd.format = wire_format{dialect::socketio, false, ns, 1};
    simdjson::dom::element list = arg;
    simdjson::dom::element inner;
    if (has_arg && arg.is_object() && !arg["symbols"].get(inner))
      list = inner;
    if (simdjson::dom::object o; has_arg && !arg.get_object().get(o))
      options = o;
    std::vector<std::string_view> symbols;
    std::string_view one;
    simdjson::dom::array arr;
    if (has_arg && !list.get_string().get(one)) {
      symbols.push_back(one);
    } else if (has_arg && !list.get_array().get(arr)) {
      for (auto item : arr) {
        std::string_view s;
        if (item.get_string().get(s)) {
          fail(error_code::bad_request, "symbols must be strings", cmd.ctx.verb);
          return;
        }
        symbols.push_back(s);
      }
    }
    if (symbols.empty() || symbols.size() > max_topics_per_request) {
      fail(error_code::bad_request, "expected {symbols:[...]}", cmd.ctx.verb);
      return;
    }
    auto& market = dialects().market_namespace;
    if (!market.empty() && dialects().namespace_index(market) == ns) {
      if (auto msg = market_rooms(has_arg ? &arg : nullptr, symbols, cmd); !msg.empty()) {
        auto code = msg.rfind("invalid symbol", 0) == 0 ? error_code::invalid_topic
                                                        : error_code::bad_request;
        fail(code, std::move(msg), cmd.ctx.verb);
        return;
      }
    } else {
      for (auto s : symbols) {
        for (auto& templ : dialects().subscribe_topics) {
          auto topic = dialect_settings::expand(templ, s);
          if (!topic || s.empty() || s.size() > 64) {
            fail(error_code::invalid_topic, "invalid symbol " + quote_cut(s), cmd.ctx.verb);
            return;
          }
          if (std::find(cmd.topics.begin(), cmd.topics.end(), *topic) == cmd.topics.end()) {
            cmd.topics.push_back(*topic);
            cmd.names.emplace_back(s);
          }
        }
      }
    }
  } else if (name == "join_room" || name == "leave_room") {
    cmd.op = name == "join_room" ? client_op::subscribe : client_op::unsubscribe;
    cmd.format = fmt; // style 0: room events
    std::string_view room;
    simdjson::dom::element inner;
    if (simdjson::dom::object o; has_arg && !arg.get_object().get(o)) {
      options = o;
      if (!o["room"].get(inner))
        arg = inner;
    }
    if (!has_arg || arg.get_string().get(room)) {
      fail(error_code::bad_request, "expected {room:\"prefix:name\"}", cmd.ctx.verb);
      return;
    }
    bool allowed = false;
    for (auto& prefix : dialects().room_prefixes)
      allowed |= room.size() > prefix.size() && room.substr(0, prefix.size()) == prefix;
    if (!allowed || !is_valid_topic(room)) {
      fail(error_code::invalid_topic, "unknown room " + quote_cut(room),
           cmd.ctx.verb);
      return;
    }
    cmd.topics.emplace_back(room);
    cmd.names.emplace_back(room);
  } else if (socketio::is_admin_event(name)) {
    // The connection actor checks that the client is an admin of `ns`.
    auto request = socketio::admin_request(name, has_arg ? simdjson::minify(arg) : std::string{});
    if (auto* msg = std::get_if<std::string>(&request)) {
      fail(error_code::bad_request, std::move(*msg), cmd.ctx.verb);
      return;
    }
    cmd.op = client_op::admin;
    cmd.format = fmt;
    cmd.admin = std::get<std::vector<std::string>>(std::move(request));
    out.frames.emplace_back(std::move(cmd));
    return;
  } else {
    fail(error_code::unknown_op, "unknown event " + quote_cut(name),
         cmd.ctx.verb);
    return;
  }
  // The argument object may carry the subscribe options; `since` keys are
  // symbols or rooms as the client named them (or canonical topics).
  if (options && cmd.op == client_op::subscribe) {
    auto msg = read_subscribe_options(*options, cmd.options);
    if (msg.empty())
      msg = resolve_since(cmd.options, cmd.names, cmd.topics);
    if (!msg.empty()) {
      fail(error_code::bad_request, std::move(msg), cmd.ctx.verb);
      return;
    }
  } else if (options) {
    if (auto option = find_subscribe_option(*options)) {
      fail(error_code::bad_request,
           "'" + std::string{*option} + "' is only valid with subscribe or join_room",
           cmd.ctx.verb);
      return;
    }
  }
  out.frames.emplace_back(std::move(cmd));
}

} // namespace tickgate
