#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/actor.hpp>
#include <caf/behavior.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/conflator.hpp"
#include "actors/history.hpp"
#include "actors/settings.hpp"
#include "actors/vocabulary.hpp"

namespace tickgate {

/// One topic (a stream such as `trade@AAPL`): numbers each publication,
/// encodes it once per wire format and hands the shared bytes to every
/// subscriber's session.
///
/// Messages:
///   (attach_atom, req, subscriber)  -> holds it, replies attached_atom with its position
///   (release_atom, connection)      -> the ack went out: sends the held subscriber its
///                                      replay and what came since, then live events
///   (detach_atom, req, connection conn) -> removes it, replies detached_atom
///   (history_atom, history_query)   -> history_reply (HTTP snapshot and history)
///   (route_atom, publication_ptr | publication_batch)
///   (feed_atom, up, message)        -> from a feed actor: that feed is up or down for this topic
///   (inspect_atom)                  -> actor_stats
///   (fault_atom)                    -> fails on purpose (operator's fault injection)
///   (stop_atom)                     -> quits (the router confirmed idleness)
/// When the last subscriber leaves, a grace timer starts; if nobody attached
/// when it fires, the topic tells the router (idle_atom) and waits for stop_atom.
/// A topic with retained events waits the longer of the grace and its
/// history TTL (counted from the last subscriber or HTTP query), so a client
/// that reconnects within the TTL finds its epoch and the events it missed.
///
/// A subscriber's stream: the attach is held and answered with the topic's
/// position (epoch, last seq) and, for `since`, whether the events after
/// the client's position are all retained. The connection acks the client
/// and then releases the subscriber; the topic sends what the options ask
/// for (events after `since`, the `last` N, or the latest snapshot and what
/// followed), then what was published after the position while the ack was
/// on its way, then live events: in seq order, none twice, none missing.
/// A re-attach after a failure (request 0) goes live at once, after a reset.
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
  std::string base_epoch;         // the router's; later epochs of this actor extend it
  uint64_t epoch_changes = 0;
  bool carried = false;           // the epoch is an upstream's (a home node, Redis), not this actor's
  std::string upstream_epoch;     // the last numbered event's position, kept across own epochs:
  uint64_t upstream_seq = 0;      // a numbered event at or before it is one the topic had
  uint64_t seq = 0;               // seq of the last publication; the next gets seq + 1
  caf::actor router;
  routing_settings settings;

  // Live subscribers. Invariant: index[subs[i].conn.id()] == i for every i,
  // and nothing else is in index. Both change only in go_live/remove_subscriber.
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
  // Subscribers not yet released: in awaiting_feed not yet confirmed
  // either; once confirmed, `backlog` holds their replay followed by every
  // event published since their position.
  struct held_subscriber {
    subscriber s;
    uint64_t req = 0;
    bool confirmed = false;
    uint64_t position = 0; // seq at confirmation; later events are live ones
    std::vector<retained_event> backlog;
    bool reset = false; // a new epoch began after its position: reset first
  };
  std::vector<held_subscriber> held;

  // Subscribers that asked for throttle_ms: each gets at most one event per
  // interval, conflated once per interval for all that share it.
  struct conflated_event {
    retained_event ev;
    uint64_t epoch_changes = 0; // of the epoch it belongs to
  };
  conflator<caf::actor_id, conflated_event> throttle;
  std::unordered_map<caf::actor_id, subscriber> throttled;

  std::unique_ptr<topic_history> history;
  std::chrono::steady_clock::time_point idle_since = std::chrono::steady_clock::now();

  uint64_t restarts = 0;          // failures of earlier incarnations (from the router)
  uint64_t published = 0;         // publications received
  uint64_t delivered = 0;         // event frames queued to subscribers
  uint64_t replayed = 0;          // retained events sent on since / last / snapshot
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
