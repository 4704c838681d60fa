// Dispatches events and replies to the encoder of each dialect.
#include "proto/frame_codec.hpp"

#include "proto/json_text.hpp"
#include "proto/relay_codec.hpp"
#include "proto/socketio_codec.hpp"
#include "tickgate.pb.h"

namespace tickgate {

namespace seed {
std::string event(const wire_format& f, const event_fields& ev);
std::string ack(const reply_to& to, client_op op, std::span<const std::string> names,
                std::span<const std::string> current);
std::string error(const reply_to& to, error_code code, std::string_view message);
std::string pong(const reply_to& to, int64_t ts_us);
std::string status(const wire_format& f, std::string_view topic, std::string_view state,
                   std::string_view message);
} // namespace seed

std::string encode_event_frame(const wire_format& f, const event_fields& ev) {
  switch (f.kind) {
    case dialect::native: return encode_event(f, ev);
    case dialect::socketio: return socketio::event(f, ev);
    case dialect::relay: return encode_relay_event(ev);
    default: return seed::event(f, ev);
  }
}

std::vector<std::string> encode_ack_frames(const reply_to& to, client_op op,
                                           std::span<const std::string> names,
                                           std::span<const std::string> current,
                                           std::span<const topic_position> positions) {
  switch (to.format.kind) {
    case dialect::relay: return {}; // replies are for clients; a relay sends no request
    case dialect::native:
      // list is not a native op; a native ack names the request's topics.
      return {encode_ack(to.format, to.id, op, names, positions)};
    case dialect::socketio: return socketio::ack(to, op, names, positions);
    default: return {seed::ack(to, op, names, current)};
  }
}

std::string encode_error_frame(const reply_to& to, error_code code,
                               std::string_view message) {
  switch (to.format.kind) {
    case dialect::relay: return {};
    case dialect::native: return encode_error(to.format, to.id, code, message);
    case dialect::socketio: return socketio::error(to, code, message);
    default: return seed::error(to, code, message);
  }
}

std::string encode_pong_frame(const reply_to& to, int64_t ts_us) {
  switch (to.format.kind) {
    case dialect::relay: return {};
    case dialect::native: return encode_pong(to.format, to.id, ts_us);
    case dialect::socketio: return socketio::pong(to, ts_us);
    default: return seed::pong(to, ts_us);
  }
}

std::string encode_status_frame(const wire_format& f, std::string_view topic,
                                std::string_view state, std::string_view message) {
  switch (f.kind) {
    case dialect::native: return encode_status(f, topic, state, message);
    case dialect::socketio: return socketio::status(f, topic, state, message);
    case dialect::relay: return encode_relay_status(topic, state, message);
    default: return seed::status(f, topic, state, message);
  }
}

namespace {

std::string ms_timestamp() {
  std::string out = R"(,"timestamp":)";
  json_text::append_int(out, now_us() / 1000);
  return out;
}

} // namespace

std::string encode_reset_frame(const wire_format& f, std::string_view topic,
                               std::string_view epoch) {
  std::string body = R"({"topic":")";
  body += topic;
  body += R"(","epoch":)";
  json_text::append_string(body, epoch);
  body += '}';
  switch (f.kind) {
    case dialect::relay: return encode_relay_reset(topic, epoch);
    case dialect::native: {
      if (f.binary) {
        v1::ServerFrame frame;
        frame.mutable_reset()->set_topic(std::string{topic});
        frame.mutable_reset()->set_epoch(std::string{epoch});
        return frame.SerializeAsString();
      }
      return R"({"type":"reset",)" + body.substr(1);
    }
    case dialect::stream:
      return R"({"stream":")" + std::string{topic} + std::string{stream_speed_suffix(f)}
             + R"(","reset":{"epoch":)"
             + body.substr(body.find("\"epoch\":") + 8) + "}";
    case dialect::socketio:
      return socketio::packet_prefix('2', f.ns) + R"(["reset",)" + body + "]";
    default:
      return R"({"type":"reset","data":)" + body + ms_timestamp() + "}";
  }
}

std::string encode_system_frame(const wire_format& f, std::string_view json,
                                std::string_view event) {
  // ,"event":"<name>" after the type, or nothing.
  std::string named;
  if (!event.empty()) {
    named = R"(,"event":)";
    json_text::append_string(named, event);
  }
  switch (f.kind) {
    case dialect::relay: return {}; // system messages reach each node's clients from that node
    case dialect::native: {
      if (f.binary) {
        v1::ServerFrame frame;
        frame.mutable_system()->set_data(std::string{json});
        if (!event.empty())
          frame.mutable_system()->set_event(std::string{event});
        return frame.SerializeAsString();
      }
      return R"({"type":"system")" + named + R"(,"data":)" + std::string{json} + "}";
    }
    case dialect::stream:
      return R"({"stream":"system")" + named + R"(,"data":)" + std::string{json} + "}";
    case dialect::socketio: {
      std::string out = socketio::packet_prefix('2', f.ns) + "[";
      json_text::append_string(out, event.empty() ? std::string_view{"system"} : event);
      return out + "," + std::string{json} + "]";
    }
    default:
      return R"({"type":"system")" + named + R"(,"data":)" + std::string{json} + ms_timestamp()
             + "}";
  }
}

} // namespace tickgate
