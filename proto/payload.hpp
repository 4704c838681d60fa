#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

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
};

using publication_ptr = std::shared_ptr<const publication>;

/// Microseconds since the Unix epoch, from the system clock.
int64_t now_us();

} // namespace tickgate
