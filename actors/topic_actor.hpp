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
///   (publish_atom, publication_ptr | publication_batch)
///   (feed_atom, up, message)        -> the upstream (Redis) is up or down
///   (inspect_atom)                  -> actor_stats
///   (fault_atom)                    -> fails on purpose (operator's fault injection)
///   (stop_atom)                     -> quits (the router confirmed idleness)
/// When the last subscriber leaves, a grace timer starts; if nobody attached
/// when it fires, the topic tells the router (idle_atom) and waits for stop_atom.
///
/// Phases (a topic with an upstream starts in awaiting_feed, others in serving):
///
///   awaiting_feed --(feed_atom, up | down)--> serving
///
/// awaiting_feed: attaches are recorded but not confirmed, so a client's ack
///   means the upstream subscription exists and nothing published after the ack
///   is missed. The first feed_atom confirms them all.
/// serving: attaches are confirmed at once; feed_atom changes tell every
///   subscriber with a status frame (feed_down / feed_up).
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

  bool feed_up = true;            // false while the upstream is down
  std::string feed_message;       // why it is down
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

/// `await_feed`: start in awaiting_feed (the node has an upstream bridge).
caf::behavior topic_actor(caf::stateful_actor<topic_state>* self,
                          std::string name, std::string epoch,
                          caf::actor router, routing_settings settings,
                          bool await_feed, uint64_t restarts);

} // namespace tickgate
