#include "proto/socketio_admin.hpp"

#include <algorithm>
#include <array>
#include <optional>

#include <simdjson.h>

#include "proto/json_text.hpp"
#include "proto/json_writer.hpp"
#include "proto/socketio_codec.hpp"

namespace tickgate::socketio {

namespace {

using simdjson::dom::element;
using request = std::variant<std::vector<std::string>, std::string>;

// The commands admin.command accepts, as the client names them.
constexpr std::array<std::string_view, 8> commands{
  "kick", "restart-topic", "maintenance", "stats", "info", "topics", "connections", "show"};

std::string list_commands() {
  std::string out;
  for (auto c : commands) {
    if (!out.empty())
      out += ", ";
    out += c;
  }
  return out;
}

// A string as is, a number or boolean as its JSON text; nullopt otherwise.
std::optional<std::string> scalar(element e) {
  std::string_view s;
  if (!e.get_string().get(s))
    return std::string{s};
  if (e.is_number() || e.is_bool())
    return simdjson::minify(e);
  return std::nullopt;
}

// The named fields of `obj` in order ("" for an absent one); the first of
// several spellings present wins. nullopt: a field is not a scalar.
std::optional<std::vector<std::string>>
fields(simdjson::dom::object obj, std::initializer_list<std::initializer_list<std::string_view>> names) {
  std::vector<std::string> out;
  for (auto& spellings : names) {
    std::string value;
    for (auto key : spellings) {
      element e;
      if (obj[key].get(e))
        continue;
      if (e.is_null())
        break;
      auto s = scalar(e);
      if (!s)
        return std::nullopt;
      value = std::move(*s);
      break;
    }
    out.push_back(std::move(value));
  }
  return out;
}

// The arguments of `command` given as an object, in the inspector's order.
std::optional<std::vector<std::string>> object_args(std::string_view command,
                                                    simdjson::dom::object o) {
  if (command == "kick")
    return fields(o, {{"id", "connection"}, {"user"}});
  if (command == "restart-topic")
    return fields(o, {{"topic"}});
  if (command == "maintenance")
    return fields(o, {{"mode", "state"}, {"message"}, {"retry_after", "retryAfter"}});
  if (command == "show")
    return fields(o, {{"id", "topic"}});
  return std::vector<std::string>{};
}

request command_request(std::string_view arg) {
  thread_local simdjson::dom::parser parser;
  element doc;
  simdjson::dom::object obj;
  std::string_view name;
  if (arg.empty() || parser.parse(arg.data(), arg.size(), true).get(doc)
      || doc.get_object().get(obj) || obj["command"].get_string().get(name))
    return std::string{"admin.command needs {command, args}: command is one of "} + list_commands();
  if (std::find(commands.begin(), commands.end(), name) == commands.end())
    return "unknown admin command " + json_text::quote_for_message(name) + " (" + list_commands()
           + ")";
  std::vector<std::string> out{name == "restart-topic" ? std::string{"restart"} : std::string{name}};
  element args;
  std::optional<std::vector<std::string>> given;
  simdjson::dom::array list;
  simdjson::dom::object o;
  if (obj["args"].get(args) || args.is_null()) {
    given = object_args(name, obj); // flat: {command:"kick", user:"alice"}
  } else if (auto one = scalar(args)) {
    given = std::vector<std::string>{std::move(*one)};
  } else if (!args.get_array().get(list)) {
    given.emplace();
    for (auto item : list) {
      auto s = scalar(item);
      if (!s) {
        given.reset();
        break;
      }
      given->push_back(std::move(*s));
    }
  } else if (!args.get_object().get(o)) {
    given = object_args(name, o);
  }
  if (!given)
    return "args of " + std::string{name}
           + " are a string, an array of strings or an object of strings";
  out.insert(out.end(), given->begin(), given->end());
  return out;
}

std::string ack_packet(const reply_to& to, std::string_view body) {
  auto out = packet_prefix('3', to.format.ns);
  json_text::append_uint(out, *to.ctx.ack_id);
  out += '[';
  out += body;
  out += ']';
  return out;
}

} // namespace

bool is_admin_event(std::string_view name) {
  return name == "admin.metrics" || name == "admin.broadcast" || name == "admin.command";
}

request admin_request(std::string_view name, std::string_view arg) {
  if (name == "admin.metrics")
    return std::vector<std::string>{"stats"};
  if (name == "admin.broadcast") {
    thread_local simdjson::dom::parser parser;
    element doc;
    if (arg.empty() || parser.parse(arg.data(), arg.size(), true).get(doc))
      return std::string{"admin.broadcast needs the system message as its argument, "
                         "e.g. {\"message\":\"...\"}"};
    return std::vector<std::string>{"broadcast", simdjson::minify(doc)};
  }
  return command_request(arg);
}

std::vector<std::string> admin_reply(const reply_to& to, std::string_view json) {
  std::vector<std::string> out;
  // The inspector writes "ok" first and without spaces (json_writer).
  constexpr std::string_view ok_only = R"({"ok":true})";
  constexpr std::string_view ok_first = R"({"ok":true,)";
  if (json == ok_only || json.substr(0, ok_first.size()) == ok_first) {
    std::string result = json == ok_only ? "{}" : "{" + std::string{json.substr(ok_first.size())};
    if (to.ctx.verb == "admin.metrics")
      out.push_back(emit_packet(to.format.ns, "admin.metrics", result));
    if (to.ctx.ack_id)
      out.push_back(ack_packet(to, R"({"success":true,"result":)" + result + "}"));
    return out;
  }
  thread_local simdjson::dom::parser parser;
  element doc;
  std::string_view code = "internal", message = "no answer";
  if (!parser.parse(json.data(), json.size(), true).get(doc)) {
    (void)doc["code"].get_string().get(code);
    (void)doc["error"].get_string().get(message);
  }
  std::string body;
  json_writer w{body};
  if (to.ctx.ack_id) {
    w.begin_object().field("success", false).field("error", message).field("code", code).end_object();
    out.push_back(ack_packet(to, body));
  } else {
    w.begin_object().field("message", message).field("code", code).end_object();
    out.push_back(emit_packet(to.format.ns, "error", body));
  }
  return out;
}

} // namespace tickgate::socketio
