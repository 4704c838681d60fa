#pragma once

// Invariants the targets share: what a reply must look like on the wire, and
// re-encodings of decoded commands, so a target can check that decoding is
// consistent (decode(encode(x)) == x) and not only that it does not crash.

#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_target.hpp"
#include "proto/dialect_settings.hpp"
#include "proto/frame_codec.hpp"
#include "proto/json_text.hpp"
#include "proto/subscribe_options.hpp"
#include "proto/topic_name.hpp"

namespace tickgate::fuzz {

inline std::string_view as_view(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

inline bool is_json(std::string_view bytes) {
  return classify_payload(bytes) == payload_kind::json;
}

/// An Engine.IO packet the server sends: "3" (pong) or
/// "4<type>[/namespace,][ack id]<JSON>" with JSON that parses.
inline bool is_socketio_packet(std::string_view p) {
  if (p == "3")
    return true;
  if (p.size() < 3 || p[0] != '4' || p[1] < '0' || p[1] > '6')
    return false;
  p.remove_prefix(2);
  if (p.front() == '/') {
    auto comma = p.find(',');
    if (comma == std::string_view::npos)
      return false;
    p.remove_prefix(comma + 1);
  }
  while (!p.empty() && p.front() >= '0' && p.front() <= '9')
    p.remove_prefix(1);
  return is_json(p);
}

/// A reply frame is well-formed for the dialect it goes to.
inline bool is_reply_for(const wire_format& f, std::string_view frame) {
  if (f.kind == dialect::socketio)
    return is_socketio_packet(frame);
  if (f.kind == dialect::native && f.binary)
    return true; // the protobuf targets parse these themselves
  return is_json(frame);
}

/// Topics of an accepted subscribe/unsubscribe: present, within the request
/// limit, valid, unique, and parallel to the client's names. A Socket.IO
/// namespace DISCONNECT is the one unsubscribe that may name none: the
/// connection hears of it even without topics (it may leave an admin namespace).
inline void check_topics(const client_command& cmd, bool names_parallel) {
  if (cmd.op != client_op::subscribe && cmd.op != client_op::unsubscribe) {
    FUZZ_CHECK(cmd.topics.empty());
    return;
  }
  bool ns_disconnect = cmd.op == client_op::unsubscribe && cmd.format.kind == dialect::socketio
                       && cmd.ctx.verb == "disconnect";
  FUZZ_CHECK(ns_disconnect || !cmd.topics.empty());
  FUZZ_CHECK(cmd.topics.size() <= max_topics_per_request);
  if (names_parallel)
    FUZZ_CHECK(cmd.names.size() == cmd.topics.size());
  for (size_t i = 0; i < cmd.topics.size(); ++i) {
    FUZZ_CHECK(is_valid_topic(cmd.topics[i]));
    for (size_t j = 0; j < i; ++j)
      FUZZ_CHECK(cmd.topics[i] != cmd.topics[j]);
  }
}

/// Symbols of an accepted command (action protocol, typed envelope) are upper
/// case and map onto the dialect's topic template one to one.
inline void check_symbols(const client_command& cmd, const std::string& topic_template) {
  for (size_t i = 0; i < cmd.names.size(); ++i) {
    for (unsigned char c : cmd.names[i])
      FUZZ_CHECK(!std::islower(c));
    FUZZ_CHECK(dialect_settings::expand(topic_template, cmd.names[i]) == cmd.topics[i]);
  }
}

/// Subscribe options of an accepted command: only on subscribes, within
/// their bounds, and `since` keyed by the request's topics, each once, in
/// the order of the topics.
inline void check_options(const client_command& cmd) {
  auto& o = cmd.options;
  if (cmd.op != client_op::subscribe) {
    FUZZ_CHECK(o.empty());
    return;
  }
  FUZZ_CHECK(check_subscribe_options(o).empty());
  FUZZ_CHECK(o.last <= max_last_events && !(o.last && o.snapshot));
  FUZZ_CHECK(o.throttle_ms == 0
             || (o.throttle_ms >= min_throttle_ms && o.throttle_ms <= max_throttle_ms));
  size_t next = 0; // since entries follow the topics' order
  for (auto& [topic, pos] : o.since) {
    FUZZ_CHECK(pos.epoch.size() <= max_epoch_length);
    while (next < cmd.topics.size() && cmd.topics[next] != topic)
      ++next;
    FUZZ_CHECK(next < cmd.topics.size());
    ++next;
  }
}

/// The positions a connection would report for an accepted subscribe: one
/// per topic under the client's name for it, `recovered` for each `since`.
inline std::vector<topic_position> positions_for(const client_command& cmd) {
  std::vector<topic_position> out;
  if (cmd.op != client_op::subscribe)
    return out;
  for (size_t i = 0; i < cmd.topics.size(); ++i) {
    topic_position p{i < cmd.names.size() ? cmd.names[i] : cmd.topics[i], "tg-1", i,
                     std::nullopt};
    if (auto* since = cmd.options.since_for(cmd.topics[i]))
      p.recovered = since->seq % 2 == 0;
    out.push_back(std::move(p));
  }
  return out;
}

/// Every reply the connection could send for `frame` is well-formed.
inline void check_replies(const decoded_frame& frame) {
  if (auto* cmd = std::get_if<client_command>(&frame)) {
    reply_to to{cmd->format, cmd->id, cmd->ctx};
    for (auto& out : encode_ack_frames(to, cmd->op, cmd->names, cmd->names))
      FUZZ_CHECK(is_reply_for(cmd->format, out));
    auto positions = positions_for(*cmd);
    for (auto& out : encode_ack_frames(to, cmd->op, cmd->names, cmd->names, positions))
      FUZZ_CHECK(is_reply_for(cmd->format, out));
    FUZZ_CHECK(is_reply_for(cmd->format, encode_pong_frame(to, 1763800000123456)));
    return;
  }
  auto& err = std::get<client_error>(frame);
  FUZZ_CHECK(!err.message.empty());
  reply_to to{err.format, err.id, err.ctx};
  FUZZ_CHECK(is_reply_for(err.format, encode_error_frame(to, err.code, err.message)));
}

/// The command as a native JSON client frame.
inline std::string to_json_frame(const client_command& cmd) {
  std::string out = R"({"op":)";
  json_text::append_string(out, to_string(cmd.op));
  if (cmd.id) {
    out += R"(,"id":)";
    json_text::append_uint(out, *cmd.id);
  }
  if (cmd.op == client_op::auth) {
    out += R"(,"token":)";
    json_text::append_string(out, cmd.token);
  }
  if (cmd.op == client_op::subscribe || cmd.op == client_op::unsubscribe) {
    out += R"(,"topics":[)";
    for (size_t i = 0; i < cmd.topics.size(); ++i) {
      if (i)
        out += ',';
      json_text::append_string(out, cmd.topics[i]);
    }
    out += ']';
  }
  auto& o = cmd.options;
  if (!o.since.empty()) {
    out += R"(,"since":{)";
    for (size_t i = 0; i < o.since.size(); ++i) {
      if (i)
        out += ',';
      json_text::append_string(out, o.since[i].first);
      out += R"(:{"epoch":)";
      json_text::append_string(out, o.since[i].second.epoch);
      out += R"(,"seq":)";
      json_text::append_uint(out, o.since[i].second.seq);
      out += '}';
    }
    out += '}';
  }
  if (o.last) {
    out += R"(,"last":)";
    json_text::append_uint(out, o.last);
  }
  if (o.snapshot)
    out += R"(,"snapshot":true)";
  if (o.throttle_ms) {
    out += R"(,"throttle_ms":)";
    json_text::append_uint(out, o.throttle_ms);
  }
  out += '}';
  return out;
}

/// Both decode the same request (the format aside).
inline bool same_request(const client_command& a, const client_command& b) {
  return a.op == b.op && a.id == b.id && a.topics == b.topics && a.token == b.token
         && a.options.since == b.options.since && a.options.last == b.options.last
         && a.options.snapshot == b.options.snapshot
         && a.options.throttle_ms == b.options.throttle_ms;
}

} // namespace tickgate::fuzz
