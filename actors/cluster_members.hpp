#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <caf/actor.hpp>
#include <caf/local_actor.hpp>
#include <caf/meta/type_name.hpp>

namespace tickgate {

/// How a node presents itself to the cluster: what crosses the wire on join
/// and in every heartbeat (registered as a CAF message type by the node).
struct member_card {
  std::string name;     // the node id, unique in the cluster
  std::string address;  // host:port of its cluster listener, as peers dial it
  uint16_t http_port = 0;
  // What it serves, as of its last heartbeat.
  uint64_t connections = 0;
  uint64_t topics = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, member_card& x) {
  return f(caf::meta::type_name("tickgate::member_card"), x.name, x.address, x.http_port,
           x.connections, x.topics);
}

/// Whether the message `self` handles comes from an actor of this process:
/// the cluster's actors take their local messages only from here, since
/// peers hold their handles too. An anonymous message does not count (a
/// remote anon_send arrives without a sender): local code sends these with
/// a sender (caf::send_as).
inline bool from_this_node(caf::local_actor* self) {
  auto& sender = self->current_sender();
  return sender && sender->node() == self->node();
}

/// A member's state as this node sees it:
///
///   (join) ──► up ──(leave message)──► leaving ──(link lost / timeout)──► removed
///               │  ▲                                 
///  (link lost,  │  │ (a heartbeat over the same link,
///   no beat in  ▼  │  or a new incarnation joins)
///   failure-timeout) down ──(forget-after)──► removed
enum class member_state : uint8_t { up, leaving, down };

const char* to_string(member_state s);

/// The home node of `topic` among `names` (rendezvous hashing: the name
/// scoring highest for the topic wins), so every node with the same member
/// list picks the same home, and a member joining or leaving moves only
/// the topics it wins or held. `names` must not be empty.
const std::string& home_of(std::string_view topic, const std::vector<std::string>& names);

/// The membership table of one node: plain code against an injected clock,
/// driven by the node actor (actors/node_actor.hpp). Keyed by member name;
/// this node itself is not in the table.
class cluster_members {
public:
  using clock = std::chrono::steady_clock;
  using time_point = clock::time_point;

  struct member {
    member_card card;
    member_state state = member_state::up;
    caf::actor handle;     // its node actor (a proxy over the cluster link)
    time_point since;      // when `state` began
    time_point last_beat;  // when it last proved alive (join or heartbeat)
  };

  enum class admission {
    admitted,   // new, or a new incarnation of a member that is down or leaving
    refreshed,  // already up with this very handle (both sides joined at once)
    name_taken, // another live member (or this node) already has the name
  };

  explicit cluster_members(std::string self_name) : self_(std::move(self_name)) {}

  /// A node joined, or answered our join. A member that is up under another
  /// handle keeps the name: it may be a different node configured with the
  /// same node id, and it proves alive until it fails.
  admission admit(const member_card& card, caf::actor handle, time_point now);

  /// A heartbeat from `handle`: refreshes its card and liveness. A member
  /// marked down whose heartbeats still come over the same link is up again
  /// (true: it was down). Unknown handles: nullptr.
  member* beat(const caf::actor_addr& handle, const member_card& card, time_point now,
               bool* was_down = nullptr);

  /// The member behind `handle` announced a graceful leave.
  member* leaving(const caf::actor_addr& handle, time_point now);

  /// What losing the link to `handle` means.
  enum class loss { unknown, failed, left };
  /// The link to `handle` is gone (a monitor's down message): a leaving
  /// member is removed, an up one is down (a failure), a down one stays.
  loss lost(const caf::actor_addr& handle, time_point now, std::string* name = nullptr);

  /// Marks down every up member silent for `failure_timeout` (their names
  /// returned), removes leaving members silent that long, and forgets
  /// members down for `forget_after`.
  std::vector<std::string> sweep(time_point now, clock::duration failure_timeout,
                                 clock::duration forget_after);

  /// Every member whose name is known, in name order.
  std::vector<const member*> all() const;
  const member* find(const std::string& name) const;
  /// The cards of the up members (not this node).
  std::vector<member_card> up_cards() const;
  /// Up members' handles.
  std::vector<caf::actor> up_handles() const;
  bool is_up_at(const std::string& address) const;
  size_t count(member_state s) const;

private:
  member* by_handle(const caf::actor_addr& handle);

  std::string self_;
  std::vector<member> members_; // a handful; linear search is the fast way
};

} // namespace tickgate
