#include "proto/error_code.hpp"

#include <array>

namespace tickgate {

namespace {

constexpr std::array<std::string_view, error_code_count> names{
  "unspecified",   "bad_request", "unknown_op", "invalid_topic",
  "limit_exceeded", "rate_limited", "unauthorized", "forbidden",
  "internal",      "unsupported",
};

} // namespace

std::string_view to_string(error_code code) {
  auto i = static_cast<size_t>(code);
  return i < names.size() ? names[i] : "unspecified";
}

std::optional<error_code> parse_error_code(std::string_view name) {
  for (size_t i = 1; i < names.size(); ++i)
    if (names[i] == name)
      return static_cast<error_code>(i);
  return std::nullopt;
}

} // namespace tickgate
