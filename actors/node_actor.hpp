#pragma once

#include <chrono>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/behavior.hpp>
#include <caf/io/middleman_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/peer_feed.hpp"

#include "actors/cluster_members.hpp"

namespace tickgate {

/// What a node needs to take part in a cluster.
struct cluster_settings {
  bool enabled = false;            // cluster.port > 0
  std::string cluster_name = "tickgate";
  std::string secret;              // joins must present it (empty: none asked)
  member_card self;                // name = node id, address = our listener
  std::vector<std::string> seeds;  // host:port of nodes to join through
  std::chrono::milliseconds heartbeat{1000};
  std::chrono::milliseconds failure_timeout{3000};
  std::chrono::milliseconds retry{2000};       // redial seeds and down members
  std::chrono::milliseconds forget_after{60000};
  std::chrono::milliseconds dial_timeout{5000};
  // Dials peers: the middleman's actor, or the OpenSSL manager's (TLS).
  caf::io::middleman_actor connector;
  bool tls = false;
};

/// The node actor: this node's membership in the cluster. It joins through
/// the seeds, learns every member from join replies and heartbeats, dials
/// each one directly, and monitors their node actors. CAF 0.17 tells of a
/// lost link only through those monitors (a killed peer's connection
/// drops); a silent peer is found by its missing heartbeats.
///
/// Remote messages (the cluster protocol; every one but join comes only
/// from members):
///   (join_atom, cluster, secret, member_card)  -> (refusal, member_card responder,
///                                                  vector<member_card> its up members)
///                                                 refusal "" = admitted
///   (beat_atom, member_card, vector<member_card>) the sender's card and its up members
///   (leave_atom)                                  the sender is leaving
///   (follow_atom, ...), (unfollow_atom, ...), (forward_atom, ...)  routing: handed
///                                                 to this node's peer link, sender kept
///   (control_atom, command, args) -> JSON         a member's cluster-wide command: this
///                                                 node's inspector answers (listings, kick
///                                                 by user, broadcast only: cluster_control.hpp)
/// Local:
///   (use_atom, address)          <- node: published at host:port; start joining
///   (use_atom, link)             <- node: the peer link, told of every change of live members
///   (tick_atom)                  <- itself: heartbeat, failure sweep, redials
///   (members_atom)               -> JSON text: every member ("nodes" of tickgatectl)
///   (cluster_atom, command, args) -> JSON <- inspector: the command on this node and
///                                   every up member, merged (unanswered within 4 s:
///                                   "unreachable"); without a cluster a kick or
///                                   broadcast is this node's answer alone
///   (leave_atom, bool)           <- node at SIGTERM: tell members -> true once sent
///   (register_atom, inspector), (inspect_atom) -> actor_stats (kind "node"), (stop_atom)
struct node_state {
  cluster_settings settings;
  caf::actor inspector;
  caf::actor link;                   // the peer feed's link: routing between nodes
  std::vector<std::string> told;     // the live members the link last heard of
  cluster_members members{""};
  std::set<std::string> dialing;               // addresses with a dial in flight
  std::map<std::string, std::string> refusals; // address -> last failure (logged once)
  std::chrono::steady_clock::time_point last_retry;
  std::chrono::steady_clock::time_point started;
  bool leaving = false;
  bool ticking = false; // heartbeats run (from the first use_atom on)
  uint64_t beats_in = 0;
  uint64_t beats_out = 0;

  static inline const char* name = "node";
};

/// Registers the types the cluster protocol sends (on every node, before
/// its actor system starts).
void add_cluster_types(caf::actor_system_config& cfg);

caf::behavior node_actor(caf::stateful_actor<node_state>* self, cluster_settings settings);

} // namespace tickgate
