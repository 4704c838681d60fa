#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "actors/feed.hpp"
#include "tools/tickgate/node_config.hpp"

namespace tickgate {

/// The node's feeds, built from its configuration.
struct node_feeds {
  std::vector<std::shared_ptr<feed>> all; // never empty: the bus when no upstream is configured
  size_t publishing = 0;                  // index in `all` of the feed HTTP publishes go to

  /// "embedded" when the bus is the only feed, else the feeds' names joined
  /// by "+" ("redis").
  std::string mode() const;
};

/// Builds every configured feed (the bus when none is); the first one built
/// that accepts publishes is the publishing feed (the bus, added, when none
/// does). Returns an error message naming the bad option.
std::optional<std::string> make_feeds(const node_config& cfg, node_feeds& out);

} // namespace tickgate
