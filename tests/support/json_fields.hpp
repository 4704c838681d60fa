#pragma once

#include <string>

namespace tickgate::test {

/// The JSON text of top-level `key` in `frame` (strings keep their quotes),
/// "<missing>", or "<invalid JSON: ...>".
std::string json_field(const std::string& frame, const char* key);

/// Like json_field, but a string value comes back without quotes or escapes.
std::string json_string(const std::string& frame, const char* key);

} // namespace tickgate::test
