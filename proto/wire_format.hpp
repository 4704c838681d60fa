#pragma once

#include <cstdint>

namespace tickgate {

/// How frames to one subscriber are encoded. Each topic encodes an event at
/// most once per wire format and shares the bytes with every subscriber that
/// uses that format.
enum class wire_format : uint8_t {
  json,   // native JSON text frames
  proto,  // native protobuf binary frames
};

constexpr int wire_format_count = 2;

constexpr bool is_binary(wire_format f) { return f == wire_format::proto; }

} // namespace tickgate
