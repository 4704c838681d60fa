#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tickgate::json_text {

/// Appends `s` as a quoted JSON string, escaping what RFC 8259 requires.
/// `s` must be valid UTF-8.
void append_string(std::string& out, std::string_view s);

/// append_string without the quotes.
void append_escaped(std::string& out, std::string_view s);

void append_uint(std::string& out, uint64_t v);

void append_int(std::string& out, int64_t v);

/// The shortest text that reads back as `v`; null for NaN and the
/// infinities, as JavaScript's JSON.stringify writes them.
void append_double(std::string& out, double v);

/// Appends `bytes` base64-encoded (RFC 4648, with padding), unquoted.
void append_base64(std::string& out, std::string_view bytes);

/// RFC 3629 UTF-8 (no overlongs, surrogates or code points past U+10FFFF);
/// simdjson's validator, the one the WebSocket framing uses too.
bool is_valid_utf8(std::string_view s);

/// The longest prefix of the UTF-8 text `s` that has at most `max_bytes`
/// bytes and ends on a character boundary: client text quoted in an error
/// message is cut to a sane length without leaving half a character, which
/// would make the reply invalid UTF-8 (and so no valid JSON text frame).
std::string_view utf8_prefix(std::string_view s, size_t max_bytes);

/// Client text for an error message: in single quotes, cut to 64 bytes
/// (whole characters, "..." when cut), control characters as '?'.
std::string quote_for_message(std::string_view s);

} // namespace tickgate::json_text
