#pragma once

#include <cstdint>
#include <chrono>
#include <map>
#include <set>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/actor.hpp>
#include <caf/behavior.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/feed.hpp"

namespace tickgate {

/// A live member of the cluster as the node actor tells the peer link:
/// its name and its node actor (null for this node).
struct peer_ref {
  std::string name;
  caf::actor node;
};

/// The cluster's data path without Redis, behind the feed interface. Every
/// topic has a home node, chosen by rendezvous hashing over the live
/// members (home_of): the home numbers its events and keeps its history;
/// every other node that has the topic alive follows it at the home and
/// gets each event once, with the home's seq and epoch (one inter-node
/// message per interested node per event, never one per client).
///
///   follow(T):  home here -> positioned(T, "", 0) at once (this node numbers T);
///               else (follow_atom, T, since) to the home's node actor; its
///               relay answers (synced_atom, T, epoch, seq, recovered, frames) ->
///               positioned(T, epoch, seq, the home's retained events when the
///               follow had no position), then (relay_atom, frame) per event, or
///               (relay_atom, frames) for several queued at once (batched when
///               busy); confirmed with (handed_atom, n) every 64 frames and each
///               second, so the relay's window (cluster.relay-window) moves.
///   publish:    home here -> delivered locally; else forwarded to the home
///               ((forward_atom, frames, hops) to its node actor), whose
///               topic numbers it and relays it back to every follower.
///   members change: topics whose home moved follow the new home (positioned
///               with its epoch: subscribers get a reset) or, moved here,
///               begin a new epoch of this node's own.
///
/// The work happens in the feed's link actor (peer_link_actor), which the
/// node actor tells of member changes and hands the peers' messages.
class peer_feed : public feed {
public:
  /// `relay_window`: relay frames toward one following node that may be
  /// queued or unconfirmed before more are dropped (cluster.relay-window).
  peer_feed(std::string self_name, size_t relay_window)
    : self_name_(std::move(self_name)), relay_window_(relay_window) {}

  /// Spawns the link actor; the node calls it before it spawns the feed
  /// actors, so the link exists when start() and the node actor need it.
  void spawn_link(caf::actor_system& sys);

  std::string name() const override { return "peers"; }
  bool up_at_start() const override { return true; }
  void start(feed_reports reports) override;
  void stop() override;
  bool follow(const std::string& topic) override;
  void unfollow(const std::string& topic) override;
  publish_outcome publish(const publication_batch& batch) override;
  void describe(actor_stats& s) const override;

  /// The link actor (after spawn_link()): the node actor sends it member
  /// changes and the peers' follows and forwards; the node gives it the
  /// router (use_atom, router).
  caf::actor link() const { return link_; }

private:
  std::string self_name_;
  size_t relay_window_;
  caf::actor link_;
  caf::actor owner_; // the feed actor: the sender of what this feed tells the link
};

/// State of the peer link actor.
///
/// Messages:
///   (feed_atom, feed actor)            <- the peer feed's start(): where reports go
///   (members_atom, vector<peer_ref>)   <- node actor: the live members, this node included
///   (use_atom, router)                 <- node: relays attach to this node's topics through it
///   (follow_atom, T) / (unfollow_atom, T) / (publish_atom, batch) <- the peer feed
///   (follow_atom, T, epoch, seq) / (unfollow_atom, T)   <- a peer's link (through our node
///                                         actor): it follows T here -> its relay attaches
///   (forward_atom, frames, hops)       <- a peer's link: publishes for topics homed here
///   (synced_atom, T, epoch, seq, recovered, frames), (relay_atom, frame[s]) <- the home's relay
///   (tick_atom)                        <- itself: follows a home has not answered go out again
///                                         (a peer ignores them until it has admitted this node)
struct peer_link_state {
  struct followed {
    std::string home;        // the member followed at ("" until there is one)
    bool synced = false;     // the home answered (or the home is this node)
    std::chrono::steady_clock::time_point asked; // when the follow went out
    std::string epoch;       // position of the last event relayed (or synced)
    uint64_t seq = 0;
  };

  std::string self_name;
  feed_reports reports;
  caf::actor router;
  std::vector<peer_ref> members;        // live, this node included, by name
  std::vector<std::string> names;       // their names, for home_of
  std::set<caf::node_id> member_nodes;  // peers' CAF nodes: whose messages count
  std::unordered_map<std::string, followed> topics; // followed here (live topics)
  // Relays of other nodes' follows, one per following link.
  std::map<caf::actor_addr, caf::actor> relays;
  size_t relay_window = 50'000;
  // Relay frames received per home relay and not yet confirmed to it.
  std::map<caf::actor_addr, uint64_t> unconfirmed;
  bool ticking = false; // follows not answered are asked again every second

  static inline const char* name = "peer_link";
};

caf::behavior peer_link_actor(caf::stateful_actor<peer_link_state>* self, std::string self_name,
                              size_t relay_window);

} // namespace tickgate

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<tickgate::peer_ref>)
