#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include <caf/actor.hpp>

#include "actors/history.hpp"
#include "actors/rate_limit.hpp"

namespace tickgate {

class authenticator;
class user_registry;

/// Limits and timings the routing core applies (configs/tickgate.ini documents
/// each one).
struct routing_settings {
  size_t max_subscriptions = 100;             // per connection
  std::chrono::milliseconds topic_idle_grace{5000}; // stop a topic this long after its last subscriber left
  std::string node_id = "node";               // prefix of every topic epoch
  caf::actor inspector;                       // every actor registers here (may be null in tests)
  // Supervision: more than restart_burst restarts of one topic within
  // restart_window delay its next start by restart_backoff (doubling, capped).
  size_t restart_burst = 5;
  std::chrono::milliseconds restart_window{10000};
  std::chrono::milliseconds restart_backoff{1000};
  std::chrono::milliseconds restart_backoff_max{30000};
  inbound_settings inbound; // per-connection rate limit and idle timeout
  history_settings history; // what each topic retains for resume, rewind and snapshots
  // Token verification and private topics; null: no access rules (unit tests).
  std::shared_ptr<const authenticator> auth;
  // Connections keep their topics where topics can read them
  // (session_sink::membership), for publications that skip the members of
  // other topics; on with the Socket.IO emitter feed.
  bool track_membership = false;
  // The namespace system's limits: rooms one Socket.IO connection may join
  // per namespace (0: no limit), and the node-wide count of subscriptions
  // per user (limits.max-channels-per-user; null: not counted).
  size_t max_rooms_per_namespace = 20;
  std::shared_ptr<user_registry> users;
};

} // namespace tickgate
