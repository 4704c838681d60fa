#include "proto/payload.hpp"

#include <algorithm>
#include <chrono>

#include <simdjson.h>

#include "proto/json_text.hpp"

namespace tickgate {

payload_kind classify_payload(std::string_view bytes) {
  thread_local simdjson::dom::parser parser;
  // simdjson reads up to SIMDJSON_PADDING bytes past the end: parse from a
  // reused, padded copy instead of allocating one per payload.
  thread_local std::string padded;
  if (!bytes.empty()) {
    if (padded.size() < bytes.size() + simdjson::SIMDJSON_PADDING)
      padded.resize(bytes.size() + simdjson::SIMDJSON_PADDING);
    std::copy(bytes.begin(), bytes.end(), padded.begin());
    if (!parser.parse(padded.data(), bytes.size(), false).error())
      return payload_kind::json;
  }
  return json_text::is_valid_utf8(bytes) ? payload_kind::text
                                         : payload_kind::binary;
}

bool is_valid_event_name(std::string_view name) {
  if (name.empty() || name.size() > max_event_name_length)
    return false;
  if (std::any_of(name.begin(), name.end(),
                  [](unsigned char c) { return c < 0x20 || c == 0x7f; }))
    return false;
  return json_text::is_valid_utf8(name);
}

int64_t now_us() {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch())
    .count();
}

} // namespace tickgate
