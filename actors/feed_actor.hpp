#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/actor.hpp>
#include <caf/behavior.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/feed.hpp"
#include "actors/vocabulary.hpp"

namespace tickgate {

/// Drives one feed (actors/feed.hpp) for the routing core: makes the feed
/// follow the node's live topics, tells those topics whether the feed
/// delivers them, hands what the feed delivers to the router, and publishes
/// what the node's HTTP API accepts when it is the node's publishing feed.
/// One per feed; the router tells every one of them of each topic.
///
/// Messages:
///   (interest_atom, name, topic, true|false)  <- router: a topic started / stopped
///   (link_atom, up, reason)                   <- feed: upstream reachable / lost
///   (subscribed_atom, vector<string> names)   <- feed: these topics are delivered now
///   (subscribed_atom, name, epoch, seq)       <- feed: delivered from this position (topics numbered
///                                                on another node); -> topic (feed_atom, true, "",
///                                                epoch, seq)
///   (deliver_atom, publication_batch)         <- feed: publications, in order -> router (route_atom)
///   (deliver_atom, publication_batch, token)  <- feed: the same, confirmed: the router answers
///                                                (handed_atom, token) once it handed them to
///                                                their topics, and the feed hears handed(token)
///   (broadcast_atom, json, event, token)      <- feed: a system message to every client, through
///                                                the inspector; handed(token) once sent there
///   (publish_atom, publication_batch)         <- HTTP, admin, demo: publish these
///   (use_atom, router)                        <- node: the router (spawned after the feeds)
///   (register_atom, inspector), (inspect_atom) -> actor_stats (kind "bridge"), (stop_atom)
/// Topics hear (feed_atom, up, message): once the feed delivers them (or at
/// once if it is down), and again on every change of the feed's status.
struct feed_state {
  struct topic_entry {
    std::vector<caf::actor> actors; // usually one; an old incarnation may linger briefly
    bool confirmed = false;         // the feed delivers it (while up)
  };

  std::shared_ptr<feed> upstream;
  caf::actor router;
  // From register_atom: fans the feed's broadcasts out and hears when the
  // feed goes down or comes back (admin.alert).
  caf::actor inspector;
  bool up = false;
  std::string down_reason;
  bool ever_up = false;  // a first connect is no "back up" alert

  // Invariant: topics holds exactly the live topics the router reported,
  // and the feed follows exactly their names.
  std::unordered_map<std::string, topic_entry> topics;
  uint64_t delivered = 0; // publications handed to the router
  uint64_t published = 0; // publications handed to the feed

  static inline const char* name = "feed";
};

/// Starts `upstream` at once; publications reach `router` (null until
/// use_atom names it).
caf::behavior feed_actor(caf::stateful_actor<feed_state>* self,
                         std::shared_ptr<feed> upstream, caf::actor router);

} // namespace tickgate
