// Dispatches events and replies to the encoder of each dialect.
#include "proto/frame_codec.hpp"

#include "proto/socketio_codec.hpp"

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
    default: return seed::event(f, ev);
  }
}

std::vector<std::string> encode_ack_frames(const reply_to& to, client_op op,
                                           std::span<const std::string> names,
                                           std::span<const std::string> current) {
  switch (to.format.kind) {
    case dialect::native:
      // list is not a native op; a native ack names the request's topics.
      return {encode_ack(to.format, to.id, op, names)};
    case dialect::socketio: return socketio::ack(to, op, names);
    default: return {seed::ack(to, op, names, current)};
  }
}

std::string encode_error_frame(const reply_to& to, error_code code,
                               std::string_view message) {
  switch (to.format.kind) {
    case dialect::native: return encode_error(to.format, to.id, code, message);
    case dialect::socketio: return socketio::error(to, code, message);
    default: return seed::error(to, code, message);
  }
}

std::string encode_pong_frame(const reply_to& to, int64_t ts_us) {
  switch (to.format.kind) {
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
    default: return seed::status(f, topic, state, message);
  }
}

} // namespace tickgate
