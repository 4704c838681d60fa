#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proto/topic_name.hpp"

namespace tickgate::net {

using tickgate::glob_match; // channels and topics share the glob rules

/// Maps topic names to Redis channels and back with templates holding one
/// {name} slot, e.g. `trade@{symbol} -> channel:trade:{symbol}`. Rules are tried
/// in order; a name no rule matches maps to itself (the identity default).
class channel_map {
public:
  struct rule {
    std::string topic_prefix, topic_suffix;
    std::string channel_prefix, channel_suffix;
  };

  /// Parses rules of the form "TOPIC_TEMPLATE -> CHANNEL_TEMPLATE"; returns an
  /// error message for the first malformed one.
  static std::optional<std::string> parse(const std::vector<std::string>& specs,
                                          channel_map& out);

  std::string to_channel(std::string_view topic) const;
  std::string to_topic(std::string_view channel) const;

  const std::vector<rule>& rules() const { return rules_; }

private:
  std::vector<rule> rules_;
};

/// `text` as a glob pattern matching exactly itself (`*?[]\` escaped).
std::string glob_escape(std::string_view text);

} // namespace tickgate::net
