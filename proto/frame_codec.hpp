#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "proto/native_codec.hpp"

namespace tickgate {

/// Where a reply goes: the format and what the request asked to echo.
struct reply_to {
  wire_format format = wire_format::json;
  std::optional<uint64_t> id;
  request_ctx ctx;
};

/// An event frame in any dialect.
std::string encode_event_frame(const wire_format& f, const event_fields& ev);

/// The confirmation of a subscribe/unsubscribe/list: `names` as requested,
/// `current` = every subscription of the connection afterwards (client names).
/// `positions`: where each topic of a subscribe starts (native and
/// Socket.IO acks carry them). Socket.IO may need two frames (an ack and a
/// confirmation event).
std::vector<std::string> encode_ack_frames(const reply_to& to, client_op op,
                                           std::span<const std::string> names,
                                           std::span<const std::string> current,
                                           std::span<const topic_position> positions = {});

std::string encode_error_frame(const reply_to& to, error_code code,
                               std::string_view message);

std::string encode_pong_frame(const reply_to& to, int64_t ts_us);

/// "feed_down" / "feed_up" for `topic`.
std::string encode_status_frame(const wire_format& f, std::string_view topic,
                                std::string_view state, std::string_view message);

/// The topic restarted with a new epoch.
std::string encode_reset_frame(const wire_format& f, std::string_view topic,
                               std::string_view epoch);

/// An operator's or a feed's system message (`json` is a valid JSON value).
/// `event` names it (valid per is_valid_event_name, or empty): Socket.IO
/// emits it under that name instead of "system", JSON frames add "event".
std::string encode_system_frame(const wire_format& f, std::string_view json,
                                std::string_view event = {});

// Decoders of the seed dialects (stateless; Socket.IO has its own state,
// see socketio_codec.hpp).
decoded_frame decode_action_frame(std::string_view bytes);
decoded_frame decode_stream_frame(std::string_view bytes);
decoded_frame decode_typed_frame(std::string_view bytes);

/// The update speed suffix ("@100ms", "@1000ms") of a stream-protocol
/// subscription's format, "" for none: events name the stream as the client
/// subscribed it.
std::string_view stream_speed_suffix(const wire_format& f);

/// The typed envelope's greeting, sent when a client connects.
std::string encode_typed_connection(std::string_view client_id);

/// Appends a payload as one JSON value: JSON as-is, UTF-8 text as a string,
/// other bytes as a base64 string.
void append_payload_value(std::string& out, std::string_view payload,
                          payload_kind kind);

} // namespace tickgate
