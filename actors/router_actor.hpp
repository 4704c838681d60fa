#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <vector>
#include <string>
#include <unordered_map>

#include <caf/actor.hpp>
#include <caf/behavior.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/settings.hpp"
#include "actors/vocabulary.hpp"

namespace tickgate {

/// The topic directory and supervisor: topic name -> live topic actor.
///
/// Messages:
///   (attach_atom, req, vector<string> names, subscriber) -> spawns missing topics, forwards
///   (detach_atom, req, vector<string> names, connection conn)  -> forwards, or answers detached_atom
///   (route_atom, publication_ptr | publication_batch)   -> forwards to live topics
///   (route_atom, publication_batch, token)  -> forwards, then (handed_atom, token) to the sender
///   (history_atom, history_query) -> delegated to the topic (spawned if needed): history_reply
///   (idle_atom, name, attaches_seen) -> stops the topic if no attach or query is in flight to it
///   (stats_atom) -> router_stats
///   (restart_atom, name) -> bool: injects a fault into the topic (operator)
///   (inspect_atom) -> actor_stats
///   (stop_atom) -> stops every topic, then itself
///
/// Supervision: a topic that ends without stop_atom failed. Its subscribers'
/// connections attach again and get a new incarnation (new epoch, `reset`
/// frame). More than restart_burst failures within restart_window hold the
/// next start back by restart_backoff (doubling up to restart_backoff_max);
/// attaches meanwhile wait and are forwarded when the topic starts.
/// Every topic start and stop is reported to each of the node's feed actors
/// (interest_atom), so every feed follows the node's topics; a topic starts
/// awaiting a status from each of them.
///
/// Every attach and detach for a topic passes through here, so the router
/// knows how many attaches it forwarded; a topic that reports idle with the
/// same count has none in flight and can stop without losing a subscriber.
struct router_state {
  struct entry {
    caf::actor topic;
    uint64_t attaches_forwarded = 0;
  };

  // Failures of one topic name, for restart backoff.
  struct restart_history {
    std::deque<std::chrono::steady_clock::time_point> failures; // within restart_window
    uint64_t restarts = 0;
    std::chrono::milliseconds backoff{0};
    bool held = false; // in backoff: attaches wait in `held_attaches`
  };

  std::unordered_map<std::string, entry> topics;
  std::unordered_map<std::string, restart_history> history;
  std::unordered_map<std::string, std::vector<std::pair<uint64_t, subscriber>>> held_attaches;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  uint64_t msgs_in = 0;
  routing_settings settings;
  std::vector<caf::actor> feeds; // feed actors; told of every topic start and stop
  uint64_t epochs_issued = 0;

  static inline const char* name = "router";
};

/// `feeds`: the node's feed actors (at least the bus on a node without an upstream).
caf::behavior router_actor(caf::stateful_actor<router_state>* self,
                           routing_settings settings, std::vector<caf::actor> feeds);

} // namespace tickgate
