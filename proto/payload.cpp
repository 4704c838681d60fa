#include "proto/payload.hpp"

#include <chrono>

#include <simdjson.h>

#include "proto/json_text.hpp"

namespace tickgate {

payload_kind classify_payload(std::string_view bytes) {
  thread_local simdjson::dom::parser parser;
  if (!bytes.empty()) {
    simdjson::padded_string padded(bytes);
    if (!parser.parse(padded).error())
      return payload_kind::json;
  }
  return json_text::is_valid_utf8(bytes) ? payload_kind::text
                                         : payload_kind::binary;
}

int64_t now_us() {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch())
    .count();
}

} // namespace tickgate
