#pragma once

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "proto/payload.hpp"

namespace tickgate {

/// One event in the body of `POST /api/publish`.
struct publish_item {
  std::string topic;
  std::string payload; // the JSON text of "data", byte for byte as sent
  bool snapshot = false; // "snapshot": true — a full state of the topic
  std::string event;     // "event": "order.filled" — the event's name, or empty
};

struct publish_error {
  std::string message;
};

using publish_body = std::variant<std::vector<publish_item>, publish_error>;

/// Most events one publish request may carry.
constexpr size_t max_publish_batch = 10000;

/// Decodes a publish body: one object `{"topic":"trade@AAPL","data":<any JSON>}`
/// (optionally `"snapshot":true` and `"event":"<name>"`) or an array of such objects. The body is fully validated as JSON first;
/// "data" is then cut out of the body untouched. Never throws.
publish_body decode_publish_body(std::string_view body);

/// The body of `POST /api/broadcast`: the same data published to many topics.
struct broadcast_item {
  std::vector<std::string> topics; // valid, each once, in the order given
  std::string payload;             // the JSON text of "data", byte for byte as sent
  std::string event;               // "event": the name every copy carries, or empty
};

using broadcast_body = std::variant<broadcast_item, publish_error>;

/// Most topics one broadcast request may name.
constexpr size_t max_broadcast_topics = 1000;

/// Decodes `{"topics":["a","b"],"data":<any JSON>}` (optionally
/// `"event":"<name>"`). Validated as publish bodies are; never throws.
broadcast_body decode_broadcast_body(std::string_view body);

} // namespace tickgate
