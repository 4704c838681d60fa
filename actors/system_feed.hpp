#pragma once

#include <caf/actor.hpp>
#include <caf/send.hpp>

#include "actors/feed.hpp"

namespace tickgate {

/// The node's own streams, the system topics ($sys:..., proto/topic_name.hpp).
/// Following one asks the inspector to publish it (the node's figures every
/// second for $sys:stats) for as long as the topic lives; the inspector
/// routes what it publishes on this node only. Nothing publishes through this
/// feed, and it follows no other topic, as no other feed follows these.
class system_feed : public feed {
public:
  explicit system_feed(caf::actor inspector) : inspector_(std::move(inspector)) {}

  std::string name() const override { return "system"; }
  bool up_at_start() const override { return true; }
  bool system() const override { return true; }
  void start(feed_reports) override {}
  bool follow(const std::string& topic) override {
    caf::anon_send(inspector_, systopic_atom_v, topic, true);
    return true;
  }
  void unfollow(const std::string& topic) override {
    caf::anon_send(inspector_, systopic_atom_v, topic, false);
  }
  bool accepts_publishes() const override { return false; }
  publish_outcome publish(const publication_batch&) override { return publish_outcome::local; }

private:
  caf::actor inspector_;
};

} // namespace tickgate
