#pragma once

#include "actors/feed.hpp"

namespace tickgate {

/// The in-process bus: the node's feed when no upstream is configured.
/// Publishes on it are delivered by this node at once; every topic is
/// followed from the moment it exists, and the bus is never down.
class bus_feed : public feed {
public:
  std::string name() const override { return "bus"; }
  bool up_at_start() const override { return true; }
  void start(feed_reports) override {}
  bool follow(const std::string&) override { return true; }
  void unfollow(const std::string&) override {}
  publish_outcome publish(const publication_batch&) override { return publish_outcome::local; }
};

} // namespace tickgate
