#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace tickgate {

/// What a publisher's payload is, decided once when the node accepts it.
/// JSON frames embed `json` payloads as they are, carry `text` as a JSON
/// string and `binary` as base64 in `data_b64`; protobuf frames always carry
/// the bytes untouched.
enum class payload_kind : uint8_t { json, text, binary };

/// Fully validates `bytes` as JSON (simdjson), then as UTF-8.
payload_kind classify_payload(std::string_view bytes);

/// One publish accepted by the node: the unit that crosses from a publisher
/// (HTTP, Redis, demo feed) to a topic. Immutable once shared.
struct publication {
  std::string topic;
  std::string payload;
  payload_kind kind = payload_kind::json;
  int64_t ts_us = 0; // when the node accepted it, microseconds since the Unix epoch
  bool snapshot = false; // the publisher marked it a full state of the topic
  // The publisher's name for the event ("order.filled"), or empty. Socket.IO
  // deliveries are emitted under it instead of the namespace's name for the
  // topic, and native frames carry it, so one topic can carry several kinds
  // of event. Valid per is_valid_event_name.
  std::string event;
  // Socket.IO emitters' events may carry several arguments (or none): then
  // `payload` is the JSON array of them and Socket.IO deliveries spread it
  // (["event", a, b]); other dialects carry the array as it is.
  bool spread_args = false;
  // Receivers to skip: a subscriber that also follows one of these topics
  // gets nothing (a Socket.IO emit's `except` rooms; for an emit to several
  // rooms, the rooms before this one, so a client in two gets it once).
  // Null for almost every publication, and only then free of cost.
  std::shared_ptr<const std::vector<std::string>> skip_members_of;
  // The position the topic's home node gave the event (a cluster relay):
  // the topic takes it instead of numbering the event itself. 0: none.
  uint64_t seq = 0;
  std::string epoch;
};

using publication_ptr = std::shared_ptr<const publication>;

constexpr size_t max_event_name_length = 100;

/// An event name is 1..max_event_name_length bytes of valid UTF-8 without
/// control characters.
bool is_valid_event_name(std::string_view name);

/// Microseconds since the Unix epoch, from the system clock.
int64_t now_us();

} // namespace tickgate
