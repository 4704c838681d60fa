#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "proto/error_code.hpp"
#include "proto/payload.hpp"
#include "proto/wire_format.hpp"

namespace tickgate {

/// Client operations, in the internal model every dialect maps to.
enum class client_op : uint8_t { subscribe, unsubscribe, ping, auth, list };

/// What a reply has to carry back besides the native id, per dialect.
struct request_ctx {
  std::optional<uint64_t> ack_id; // socketio: the packet's ack id
  std::string echo;               // raw JSON to echo: stream/typed "id", typed ping timestamp
  std::string verb;               // socketio: the event name ("subscribe", "join_room", ...)
};

std::string_view to_string(client_op op);

/// One decoded client request, in the internal model every dialect maps to.
struct client_command {
  client_op op = client_op::ping;
  std::optional<uint64_t> id;
  std::vector<std::string> topics; // subscribe / unsubscribe, each valid and unique
  std::vector<std::string> names;  // the same, as the client named them (symbols, rooms); parallel to topics
  std::string token;               // auth
  wire_format format = wire_format::json; // answer (and deliver) in this format
  request_ctx ctx;
};

/// A frame the decoder rejected; `id` is set when it could be read.
struct client_error {
  error_code code = error_code::bad_request;
  std::string message;
  std::optional<uint64_t> id;
  wire_format format = wire_format::json;
  request_ctx ctx;
};

using decoded_frame = std::variant<client_command, client_error>;

/// Most topics one subscribe or unsubscribe frame may name.
constexpr size_t max_topics_per_request = 1000;

/// Decodes one native client frame: JSON for text frames, protobuf
/// `ClientFrame` for binary frames. Never throws.
decoded_frame decode_client_frame(std::string_view bytes, bool binary);

/// The fields of an event frame.
struct event_fields {
  std::string_view topic;
  uint64_t seq = 0;
  std::string_view epoch;
  int64_t ts_us = 0;
  std::string_view payload;
  payload_kind kind = payload_kind::json;
};

std::string encode_event(wire_format f, const event_fields& ev);

std::string encode_ack(wire_format f, std::optional<uint64_t> id, client_op op,
                       std::span<const std::string> topics);

std::string encode_error(wire_format f, std::optional<uint64_t> id,
                         error_code code, std::string_view message);

std::string encode_pong(wire_format f, std::optional<uint64_t> id,
                        int64_t ts_us);

/// `state` is "feed_down" or "feed_up".
std::string encode_status(wire_format f, std::string_view topic,
                          std::string_view state, std::string_view message);

} // namespace tickgate
