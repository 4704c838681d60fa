#pragma once

#include <string>

namespace tickgate::test {

/// The JSON text of top-level `key` in `frame` (strings keep their quotes),
/// "<missing>", or "<invalid JSON: ...>".
std::string json_field(const std::string& frame, const char* key);

/// Like json_field, but a string value comes back without quotes or escapes.
std::string json_string(const std::string& frame, const char* key);

/// `frame` with every "epoch" string value replaced by "E": epochs carry the
/// node's random id, so expected frames name them this way.
std::string epochs_masked(const std::string& frame);

} // namespace tickgate::test
