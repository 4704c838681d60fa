#include "proto/native_codec.hpp"

#include <algorithm>
#include <unordered_set>

#include <simdjson.h>

#include "proto/json_text.hpp"
#include "proto/subscribe_options.hpp"
#include "proto/topic_name.hpp"
#include "tickgate.pb.h"

namespace tickgate {

std::string_view to_string(client_op op) {
  switch (op) {
    case client_op::subscribe: return "subscribe";
    case client_op::unsubscribe: return "unsubscribe";
    case client_op::ping: return "ping";
    case client_op::auth: return "auth";
    case client_op::list: return "list";
    case client_op::admin: return "admin";
  }
  return "unknown";
}

namespace {

using json_text::quote_for_message;

// Checks and de-duplicates the topic list of a subscribe or unsubscribe.
// Returns an error message (and sets `code`) or an empty string.
std::string check_topics(std::vector<std::string>& topics, error_code& code) {
  code = error_code::bad_request;
  if (topics.empty())
    return "topics must name at least one topic";
  if (topics.size() > max_topics_per_request)
    return "at most " + std::to_string(max_topics_per_request)
           + " topics per request";
  for (auto& t : topics) {
    if (!is_valid_topic(t) && !is_system_topic(t)) {
      code = error_code::invalid_topic;
      if (t.empty())
        return "topic names must not be empty";
      if (t.size() > max_topic_length)
        return "topic name longer than " + std::to_string(max_topic_length)
               + " bytes";
      return "invalid topic name " + quote_for_message(t)
             + " (allowed: letters, digits and _-.:@/|=+)";
    }
  }
  std::unordered_set<std::string_view> seen;
  std::vector<std::string> unique;
  unique.reserve(topics.size());
  for (auto& t : topics)
    if (seen.insert(t).second)
      unique.push_back(t);
  if (unique.size() != topics.size())
    topics = std::move(unique);
  return {};
}

decoded_frame decode_json(std::string_view bytes) {
  thread_local simdjson::dom::parser parser;
  client_error err;
  err.format = wire_format::json;
  auto fail = [&](error_code code, std::string msg) -> decoded_frame {
    err.code = code;
    err.message = std::move(msg);
    return err;
  };
  simdjson::dom::element doc;
  if (parser.parse(bytes.data(), bytes.size(), true).get(doc))
    return fail(error_code::bad_request, "frame is not valid JSON");
  simdjson::dom::object obj;
  if (doc.get_object().get(obj))
    return fail(error_code::bad_request, "frame must be a JSON object");
  simdjson::dom::element field;
  if (!obj["id"].get(field)) {
    uint64_t id = 0;
    if (field.get_uint64().get(id))
      return fail(error_code::bad_request,
                  "'id' must be a non-negative integer");
    err.id = id;
  }
  std::string_view op_name;
  if (obj["op"].get(field))
    return fail(error_code::bad_request, "missing 'op'");
  if (field.get_string().get(op_name))
    return fail(error_code::bad_request, "'op' must be a string");
  client_command cmd;
  cmd.id = err.id;
  cmd.format = wire_format::json;
  if (op_name == "subscribe" || op_name == "unsubscribe") {
    cmd.op = op_name == "subscribe" ? client_op::subscribe
                                    : client_op::unsubscribe;
    simdjson::dom::array arr;
    if (obj["topics"].get(field))
      return fail(error_code::bad_request, "missing 'topics'");
    if (field.get_array().get(arr))
      return fail(error_code::bad_request,
                  "'topics' must be an array of strings");
    for (auto item : arr) {
      std::string_view name;
      if (item.get_string().get(name))
        return fail(error_code::bad_request,
                    "'topics' must be an array of strings");
      if (cmd.topics.size() > max_topics_per_request)
        break; // check_topics reports it
      cmd.topics.emplace_back(name);
    }
    error_code code;
    if (auto msg = check_topics(cmd.topics, code); !msg.empty())
      return fail(code, std::move(msg));
    if (cmd.op == client_op::subscribe) {
      auto msg = read_subscribe_options(obj, cmd.options);
      if (msg.empty())
        msg = resolve_since(cmd.options, {}, cmd.topics);
      if (!msg.empty())
        return fail(error_code::bad_request, std::move(msg));
    }
  } else if (op_name == "ping") {
    cmd.op = client_op::ping;
  } else if (op_name == "auth") {
    cmd.op = client_op::auth;
    std::string_view token;
    if (obj["token"].get(field) || field.get_string().get(token))
      return fail(error_code::bad_request, "'token' must be a string");
    cmd.token = std::string{token};
  } else {
    return fail(error_code::unknown_op,
                "unknown op " + quote_for_message(op_name)
                  + " (expected subscribe, unsubscribe, ping or auth)");
  }
  if (cmd.op != client_op::subscribe)
    if (auto option = find_subscribe_option(obj))
      return fail(error_code::bad_request, "'" + std::string{*option}
                                             + "' is only valid with op subscribe");
  return cmd;
}

decoded_frame decode_proto(std::string_view bytes) {
  client_error err;
  err.format = wire_format::proto;
  v1::ClientFrame frame;
  if (!frame.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    err.message = "frame is not a valid protobuf ClientFrame";
    return err;
  }
  if (frame.has_id())
    err.id = frame.id();
  client_command cmd;
  cmd.id = err.id;
  cmd.format = wire_format::proto;
  auto take_topics = [&](const auto& list) {
    cmd.topics.assign(list.begin(), list.end());
  };
  switch (frame.op_case()) {
    case v1::ClientFrame::kSubscribe:
      cmd.op = client_op::subscribe;
      take_topics(frame.subscribe().topics());
      break;
    case v1::ClientFrame::kUnsubscribe:
      cmd.op = client_op::unsubscribe;
      take_topics(frame.unsubscribe().topics());
      break;
    case v1::ClientFrame::kPing:
      cmd.op = client_op::ping;
      return cmd;
    case v1::ClientFrame::kAuth:
      cmd.op = client_op::auth;
      cmd.token = frame.auth().token();
      return cmd;
    default:
      err.code = error_code::unknown_op;
      err.message = "frame names no operation";
      return err;
  }
  error_code code;
  if (auto msg = check_topics(cmd.topics, code); !msg.empty()) {
    err.code = code;
    err.message = std::move(msg);
    return err;
  }
  if (cmd.op == client_op::subscribe) {
    auto& sub = frame.subscribe();
    for (auto& [topic, pos] : sub.since())
      cmd.options.since.emplace_back(topic, stream_position{pos.epoch(), pos.seq()});
    cmd.options.last = sub.last();
    cmd.options.snapshot = sub.snapshot();
    cmd.options.throttle_ms = sub.throttle_ms();
    auto msg = check_subscribe_options(cmd.options);
    if (msg.empty())
      msg = resolve_since(cmd.options, {}, cmd.topics);
    if (!msg.empty()) {
      err.message = std::move(msg); // bad_request
      return err;
    }
  }
  return cmd;
}

void append_id(std::string& out, std::optional<uint64_t> id) {
  if (id) {
    out += ",\"id\":";
    json_text::append_uint(out, *id);
  }
}

std::string serialize(const v1::ServerFrame& frame) {
  std::string out;
  frame.SerializeToString(&out);
  return out;
}

} // namespace

decoded_frame decode_client_frame(std::string_view bytes, bool binary) {
  return binary ? decode_proto(bytes) : decode_json(bytes);
}

event_fields event_fields_of(std::string_view topic, uint64_t seq,
                             std::string_view epoch, const publication& pub) {
  return {topic,    seq,         epoch,     pub.ts_us,      pub.payload,
          pub.kind, pub.snapshot, pub.event, pub.spread_args};
}

std::string encode_event(wire_format f, const event_fields& ev) {
  if (f == wire_format::proto) {
    v1::ServerFrame frame;
    auto* e = frame.mutable_event();
    e->set_topic(std::string{ev.topic});
    e->set_seq(ev.seq);
    e->set_epoch(std::string{ev.epoch});
    e->set_ts(ev.ts_us);
    e->set_data(std::string{ev.payload});
    e->set_snapshot(ev.snapshot);
    e->set_event(std::string{ev.event});
    return serialize(frame);
  }
  std::string out;
  out.reserve(ev.payload.size() + ev.topic.size() + ev.epoch.size() + 80);
  out += R"({"type":"event","topic":")";
  out += ev.topic; // topic names never need escaping (see topic_name.hpp)
  out += R"(","seq":)";
  json_text::append_uint(out, ev.seq);
  out += R"(,"epoch":")";
  out += ev.epoch;
  out += R"(","ts":)";
  json_text::append_int(out, ev.ts_us);
  if (ev.snapshot)
    out += R"(,"snapshot":true)";
  if (!ev.event.empty()) {
    out += R"(,"event":)";
    json_text::append_string(out, ev.event);
  }
  switch (ev.kind) {
    case payload_kind::json:
      out += R"(,"data":)";
      out += ev.payload;
      break;
    case payload_kind::text:
      out += R"(,"data":)";
      json_text::append_string(out, ev.payload);
      break;
    case payload_kind::binary:
      out += R"(,"data_b64":")";
      json_text::append_base64(out, ev.payload);
      out += '"';
      break;
  }
  out += '}';
  return out;
}

std::string encode_ack(wire_format f, std::optional<uint64_t> id, client_op op,
                       std::span<const std::string> topics,
                       std::span<const topic_position> positions) {
  if (f == wire_format::proto) {
    v1::ServerFrame frame;
    auto* a = frame.mutable_ack();
    if (id)
      a->set_id(*id);
    a->set_op(std::string{to_string(op)});
    for (auto& t : topics)
      a->add_topics(t);
    if (op == client_op::subscribe) {
      for (auto& p : positions) {
        auto& pos = (*a->mutable_positions())[p.name];
        pos.set_epoch(p.epoch);
        pos.set_seq(p.seq);
        if (p.recovered)
          (*a->mutable_recovered())[p.name] = *p.recovered;
      }
    }
    return serialize(frame);
  }
  std::string out = R"({"type":"ack")";
  append_id(out, id);
  out += R"(,"op":")";
  out += to_string(op);
  out += '"';
  if (op == client_op::subscribe || op == client_op::unsubscribe) {
    out += R"(,"topics":[)";
    for (size_t i = 0; i < topics.size(); ++i) {
      if (i > 0)
        out += ',';
      json_text::append_string(out, topics[i]);
    }
    out += ']';
  }
  if (op == client_op::subscribe)
    append_positions(out, positions);
  out += '}';
  return out;
}

std::string encode_error(wire_format f, std::optional<uint64_t> id,
                         error_code code, std::string_view message) {
  if (f == wire_format::proto) {
    v1::ServerFrame frame;
    auto* e = frame.mutable_error();
    if (id)
      e->set_id(*id);
    e->set_code(static_cast<v1::ErrorCode>(code));
    e->set_message(std::string{message});
    return serialize(frame);
  }
  std::string out = R"({"type":"error")";
  append_id(out, id);
  out += R"(,"code":")";
  out += to_string(code);
  out += R"(","message":)";
  json_text::append_string(out, message);
  out += '}';
  return out;
}

std::string encode_pong(wire_format f, std::optional<uint64_t> id,
                        int64_t ts_us) {
  if (f == wire_format::proto) {
    v1::ServerFrame frame;
    auto* p = frame.mutable_pong();
    if (id)
      p->set_id(*id);
    p->set_ts(ts_us);
    return serialize(frame);
  }
  std::string out = R"({"type":"pong")";
  append_id(out, id);
  out += R"(,"ts":)";
  json_text::append_int(out, ts_us);
  out += '}';
  return out;
}

std::string encode_status(wire_format f, std::string_view topic,
                          std::string_view state, std::string_view message) {
  if (f == wire_format::proto) {
    v1::ServerFrame frame;
    auto* st = frame.mutable_status();
    st->set_topic(std::string{topic});
    st->set_state(std::string{state});
    st->set_message(std::string{message});
    return serialize(frame);
  }
  std::string out = R"({"type":"status","topic":")";
  out += topic;
  out += R"(","state":")";
  out += state;
  out += R"(","message":)";
  json_text::append_string(out, message);
  out += '}';
  return out;
}

} // namespace tickgate
