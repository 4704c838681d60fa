#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/actor.hpp>
#include <caf/behavior.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/channel_map.hpp"
#include "actors/redis_port.hpp"
#include "actors/vocabulary.hpp"

namespace tickgate {

struct bridge_settings {
  channel_map mapping;                 // topic <-> channel templates
  std::vector<std::string> patterns;   // PSUBSCRIBEd at link-up; channels they cover get no SUBSCRIBE
  size_t max_payload_bytes = 1024 * 1024; // larger Redis messages are dropped and counted
};

/// Keeps the node's Redis subscriptions equal to its live topics (plus the
/// configured patterns), turns Redis messages into publications for the
/// router, and PUBLISHes what the node's HTTP API accepts.
///
/// Messages:
///   (interest_atom, name, topic, true|false)  <- router: a topic started / stopped
///   (link_atom, up, reason)                   <- link: connected / lost
///   (subscribed_atom, name, is_pattern)       <- link: Redis confirmed
///   redis_batch                               <- link: messages, in order
///   (publish_atom, publication_batch)         <- HTTP: PUBLISH these
///   (use_atom, router)                        <- node: the router (spawned after the bridge)
/// Topics hear (feed_atom, up, message): once their channel is subscribed (or
/// at once if Redis is down), and again on every link change.
struct bridge_state {
  struct channel_entry {
    std::vector<caf::actor> topics; // usually one; two topic names may share a channel
    bool confirmed = false;         // Redis confirmed the subscription (or its pattern's)
  };

  std::shared_ptr<redis_port> port;
  caf::actor router;
  bridge_settings settings;
  bool link_up = false;
  std::string down_reason = "redis not connected yet";

  // Invariant: channels holds exactly the channels of live topics.
  std::unordered_map<std::string, channel_entry> channels;
  std::unordered_map<std::string, bool> pattern_confirmed;

  static inline const char* name = "bridge";
};

caf::behavior bridge_actor(caf::stateful_actor<bridge_state>* self,
                           std::shared_ptr<redis_port> port, caf::actor router,
                           bridge_settings settings);

} // namespace tickgate
