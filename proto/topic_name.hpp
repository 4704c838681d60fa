#pragma once

#include <cstddef>
#include <string_view>

namespace tickgate {

/// Longest topic name a client may use, in bytes.
constexpr size_t max_topic_length = 128;

/// A topic name is 1..max_topic_length characters from the alphabet
/// [A-Za-z0-9] and `_ - . : @ / | = +`. The alphabet never needs escaping in
/// JSON, so encoders copy topic names verbatim.
bool is_valid_topic(std::string_view name);

/// Redis glob matching as used by PSUBSCRIBE, and for topic patterns
/// (history rules): `*`, `?`, `[abc]`, `[a-z]`, `[^a]` and `\` escapes.
bool glob_match(std::string_view pattern, std::string_view text);

} // namespace tickgate
