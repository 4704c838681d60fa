#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tickgate::json_text {

/// Appends `s` as a quoted JSON string, escaping what RFC 8259 requires.
/// `s` must be valid UTF-8.
void append_string(std::string& out, std::string_view s);

void append_uint(std::string& out, uint64_t v);

void append_int(std::string& out, int64_t v);

/// Appends `bytes` base64-encoded (RFC 4648, with padding), unquoted.
void append_base64(std::string& out, std::string_view bytes);

bool is_valid_utf8(std::string_view s);

} // namespace tickgate::json_text
