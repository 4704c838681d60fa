#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace tickgate {

/// Stable error codes of the client protocol. The numeric values equal the
/// protobuf enum `tickgate.v1.ErrorCode`; the names are the JSON spelling.
enum class error_code : uint8_t {
  bad_request = 1,
  unknown_op = 2,
  invalid_topic = 3,
  limit_exceeded = 4,
  rate_limited = 5,
  unauthorized = 6,
  forbidden = 7,
  internal = 8,
  unsupported = 9,
};

constexpr int error_code_count = 10; // one past the largest value

std::string_view to_string(error_code code);

std::optional<error_code> parse_error_code(std::string_view name);

} // namespace tickgate
