#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/actor.hpp>
#include <caf/behavior.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/settings.hpp"
#include "actors/vocabulary.hpp"

namespace tickgate {

/// One topic (a stream such as `trade@AAPL`): numbers each publication,
/// encodes it once per wire format and hands the shared bytes to every
/// subscriber's session.
///
/// Messages:
///   (attach_atom, req, subscriber)  -> adds it, replies attached_atom to its connection
///   (detach_atom, req, connection conn) -> removes it, replies detached_atom
///   (route_atom, publication_ptr | publication_batch)
///   (feed_atom, up, message)        -> from a feed actor: that feed is up or down for this topic
///   (inspect_atom)                  -> actor_stats
///   (fault_atom)                    -> fails on purpose (operator's fault injection)
///   (stop_atom)                     -> quits (the router confirmed idleness)
/// When the last subscriber leaves, a grace timer starts; if nobody attached
/// when it fires, the topic tells the router (idle_atom) and waits for stop_atom.
///
/// Phases (a topic on a node with feeds starts in awaiting_feed, others in serving):
///
///   awaiting_feed --(feed_atom, up | down, from every feed)--> serving
///
/// awaiting_feed: attaches are recorded but not confirmed, so a client's ack
///   means every feed delivers the topic and nothing published after the ack
///   is missed. The first feed_atom of the last feed to report confirms them all.
/// serving: attaches are confirmed at once; feed_atom changes tell every
///   subscriber with a status frame (feed_down / feed_up).
/// With several feeds the topic is up while every feed is: a topic missing
/// one feed's events says feed_down, with that feed's reason.
struct topic_state {
  std::string name;
  std::string epoch;
  uint64_t seq = 0;               // seq of the last publication; the next gets seq + 1
  caf::actor router;
  routing_settings settings;

  // Invariant: index_[subs_[i].conn.id()] == i for every i, and nothing else is
  // in index_. Both change only in add_subscriber/remove_subscriber.
  std::vector<subscriber> subs;
  std::unordered_map<caf::actor_id, size_t> index;

  // The latest status of each feed that reported, keyed by its feed actor.
  struct feed_status {
    caf::actor_addr feed;
    bool up = false;
    std::string message;
  };
  std::vector<feed_status> feeds;
  size_t feeds_expected = 0;      // the node's feed count; awaiting_feed until all reported
  bool feed_up = true;            // every feed up (derived from `feeds`)
  std::string feed_message;       // why not: the first down feed's reason
  // awaiting_feed only: confirmations owed, (connection, request id).
  std::vector<std::pair<connection_actor_type, uint64_t>> unconfirmed;

  uint64_t restarts = 0;          // failures of earlier incarnations (from the router)
  uint64_t published = 0;         // publications received
  uint64_t delivered = 0;         // event frames queued to subscribers
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();

  uint64_t attaches_seen = 0;     // attach requests received, for the idle handshake
  uint64_t grace_token = 0;       // invalidates stale grace timers
  int64_t last_publish_us = 0;

  static inline const char* name_ = "topic";

  topic_state() = default;
  topic_state(const topic_state&) = delete;
  topic_state& operator=(const topic_state&) = delete;

  // Runs however the topic ends (also when it fails): its subscribers leave
  // the node's subscription gauge with it.
  ~topic_state();
};

/// `feeds`: how many feed actors will report on this topic (0: serve at once).
caf::behavior topic_actor(caf::stateful_actor<topic_state>* self,
                          std::string name, std::string epoch,
                          caf::actor router, routing_settings settings,
                          size_t feeds, uint64_t restarts);

} // namespace tickgate
