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

/// System topics carry the node's own streams ($sys:stats): the prefix
/// below, then a valid topic name. Only the native protocol's subscribe and
/// the snapshot/history endpoints accept them (for admins, actors/auth);
/// nothing outside the node can publish to one, since no publish path accepts
/// a name outside the alphabet above.
constexpr std::string_view system_topic_prefix = "$sys:";
bool is_system_topic(std::string_view name);

/// The topic the node publishes its figures to every second while anyone
/// follows it (actors/system_feed).
constexpr std::string_view stats_topic = "$sys:stats";

/// Redis glob matching as used by PSUBSCRIBE, and for topic patterns
/// (history rules): `*`, `?`, `[abc]`, `[a-z]`, `[^a]` and `\` escapes.
bool glob_match(std::string_view pattern, std::string_view text);

} // namespace tickgate
