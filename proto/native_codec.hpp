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
/// admin: an operator command from an admin namespace (proto/socketio_admin.hpp).
enum class client_op : uint8_t { subscribe, unsubscribe, ping, auth, list, admin };

/// What a reply has to carry back besides the native id, per dialect.
struct request_ctx {
  std::optional<uint64_t> ack_id; // socketio: the packet's ack id
  std::string echo;               // raw JSON to echo: stream/typed "id", typed ping timestamp
  std::string verb;               // socketio: the event name ("subscribe", "join_room", ...)
};

std::string_view to_string(client_op op);

/// A place in a topic's stream: the topic's epoch (one per incarnation of
/// the topic) and a seq within it.
struct stream_position {
  std::string epoch;
  uint64_t seq = 0;
  bool operator==(const stream_position&) const = default;
};

/// How a subscribe starts each listed topic's stream. Per topic the first
/// that applies wins: a `since` entry for it, then `snapshot`, then `last`.
struct subscribe_options {
  // Resume: every retained event after this position, then live events
  // (keys are canonical topic names, each one of the request's topics).
  std::vector<std::pair<std::string, stream_position>> since;
  uint32_t last = 0;        // rewind: the N most recent retained events (0: none)
  bool snapshot = false;    // the latest snapshot event and every event after it
  uint32_t throttle_ms = 0; // conflation: at most one event per topic per interval (0: all)

  bool empty() const { return since.empty() && last == 0 && !snapshot && throttle_ms == 0; }
  const stream_position* since_for(std::string_view topic) const {
    for (auto& [t, p] : since)
      if (t == topic)
        return &p;
    return nullptr;
  }
};

/// Bounds of the subscribe options (requests outside them are refused).
constexpr uint32_t max_last_events = 10000;
constexpr uint32_t min_throttle_ms = 10;
constexpr uint32_t max_throttle_ms = 60000;
constexpr size_t max_epoch_length = 64; // bytes of a `since` epoch

/// Where a subscribed topic's stream stands when the subscription starts:
/// the topic's epoch and the seq of the last event published before it
/// (live events continue from seq + 1). `recovered` answers a `since`.
struct topic_position {
  std::string name; // as the client named the topic
  std::string epoch;
  uint64_t seq = 0;
  std::optional<bool> recovered;
};

/// One decoded client request, in the internal model every dialect maps to.
struct client_command {
  client_op op = client_op::ping;
  std::optional<uint64_t> id;
  std::vector<std::string> topics; // subscribe / unsubscribe, each valid and unique
  std::vector<std::string> names;  // the same, as the client named them (symbols, rooms); parallel to topics
  std::string token;               // auth
  wire_format format = wire_format::json; // answer (and deliver) in this format
  request_ctx ctx;
  subscribe_options options;       // subscribe only
  std::vector<std::string> admin;  // admin: the inspector command and its arguments
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
  bool snapshot = false; // the publisher marked it a full state
  std::string_view event; // the publication's event name, or empty
  bool spread_args = false; // payload is a JSON array of Socket.IO arguments
};

/// The fields of `pub`'s event frame as `seq` of `topic` in `epoch`.
event_fields event_fields_of(std::string_view topic, uint64_t seq,
                             std::string_view epoch, const publication& pub);

std::string encode_event(wire_format f, const event_fields& ev);

/// `positions`: a subscribe's topics as they start (may be empty).
std::string encode_ack(wire_format f, std::optional<uint64_t> id, client_op op,
                       std::span<const std::string> topics,
                       std::span<const topic_position> positions = {});

std::string encode_error(wire_format f, std::optional<uint64_t> id,
                         error_code code, std::string_view message);

std::string encode_pong(wire_format f, std::optional<uint64_t> id,
                        int64_t ts_us);

/// `state` is "feed_down" or "feed_up".
std::string encode_status(wire_format f, std::string_view topic,
                          std::string_view state, std::string_view message);

} // namespace tickgate
