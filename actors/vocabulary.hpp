#pragma once

// Atoms and message types exchanged between tickgate actors. CAF 0.17 atoms
// hold at most 10 characters.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>
#include <caf/actor.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/session_sink.hpp"
#include "proto/native_codec.hpp"
#include "proto/payload.hpp"
#include "proto/wire_format.hpp"

namespace tickgate {

#define TICKGATE_ATOM(name, text)                                              \
  using name = caf::atom_constant<caf::atom(text)>;                            \
  constexpr name name##_v = name{};

// connection -> router -> topic: add a subscriber (request id, subscriber).
TICKGATE_ATOM(attach_atom, "attach")
// router -> connection: your attach for (name) went to (topic); watch it, so a
// failure before it confirms is noticed: (binding_atom, name, topic).
TICKGATE_ATOM(binding_atom, "binding")
// topic -> connection: the subscriber is in (request id, topic name, topic,
// position: where its stream starts, and whether a `since` was recovered).
TICKGATE_ATOM(attached_atom, "attached")
// connection -> router -> topic: remove a subscriber (request id, connection).
TICKGATE_ATOM(detach_atom, "detach")
// topic or router -> connection: the subscriber is out (request id, topic name).
TICKGATE_ATOM(detached_atom, "detached")
// HTTP, admin, demo feed -> the publishing feed's actor: publish these
// upstream (publication_batch); they come back through a feed's deliveries.
TICKGATE_ATOM(publish_atom, "publish")
// feed actor -> router -> topic: publication(s) to route to subscribers.
TICKGATE_ATOM(route_atom, "route")
// topic -> router: no subscribers for a grace period (name, attaches seen).
TICKGATE_ATOM(idle_atom, "idle")
// topic -> itself: the grace timer fired (token).
TICKGATE_ATOM(grace_atom, "grace")
// router -> topic: stop now (idle confirmed) / router -> all topics on shutdown.
TICKGATE_ATOM(stop_atom, "stop")
// session -> connection: the socket is gone.
TICKGATE_ATOM(closed_atom, "closed")
// connection -> itself: the idle timeout ran out.
TICKGATE_ATOM(deadline_atom, "deadline")
// inspector -> itself: time to sample the routing actors' mailboxes.
TICKGATE_ATOM(sample_atom, "sample")
// demo feed -> itself: time to publish what its rate owes.
TICKGATE_ATOM(pace_atom, "pace")
// router -> itself: a topic's restart backoff is over (name).
TICKGATE_ATOM(backoff_atom, "backoff")
// anyone -> router: counts for /health and /api/stats.
TICKGATE_ATOM(stats_atom, "stats")
// router -> feed actors: a topic came to life (true) or stopped (false): (name, topic, bool).
TICKGATE_ATOM(interest_atom, "interest")
// feed actor -> topic: that feed is up or down for the topic: (bool up, message).
TICKGATE_ATOM(feed_atom, "feed")
// feed -> feed actor: the upstream became reachable or was lost: (bool up, reason).
TICKGATE_ATOM(link_atom, "link")
// feed -> feed actor: publications that arrived from the upstream (publication_batch).
TICKGATE_ATOM(deliver_atom, "deliver")
// node -> feed actor / inspector: the actors to work with: (use_atom, router, ...).
TICKGATE_ATOM(use_atom, "use")
// any actor -> inspector at start: (register_atom, kind).
TICKGATE_ATOM(register_atom, "register")
// inspector -> any actor: describe yourself -> actor_stats.
TICKGATE_ATOM(inspect_atom, "inspect")
// tickgatectl / HTTP -> inspector: (admin_atom, secret, command, args) -> JSON text.
TICKGATE_ATOM(admin_atom, "admin")
// inspector -> connection: close the client (operator's kick).
TICKGATE_ATOM(kick_atom, "kick")
// inspector -> router: (restart_atom, topic) fault injection; router -> topic: (fault_atom).
TICKGATE_ATOM(restart_atom, "restart")
TICKGATE_ATOM(fault_atom, "fault")
// inspector -> connections: (broadcast_atom, JSON payload) system message to every client;
// (broadcast_atom, JSON payload, event name) emits it under that Socket.IO event.
// feed -> feed actor -> inspector: (broadcast_atom, JSON, event name[, token]).
TICKGATE_ATOM(broadcast_atom, "broadcast")
// feed -> feed actor: the upstream delivers these topics now: (vector<string> names).
TICKGATE_ATOM(subscribed_atom, "subscribed")

// session -> connection: (dropped_atom, count) the slow-consumer policy dropped
// that many queued events; the client is told.
TICKGATE_ATOM(dropped_atom, "dropped")

// connection -> itself: time to check whether the client's token expired.
TICKGATE_ATOM(authexp_atom, "authexp")

// connection -> topic: the subscribe's ack went out; start this subscriber's
// stream (replayed events, then live ones): (release_atom, connection).
TICKGATE_ATOM(release_atom, "release")
// HTTP -> router -> topic: what the topic retains (history_query) -> history_reply.
TICKGATE_ATOM(history_atom, "history")
// topic -> itself: time to send the conflated events of a throttle interval.
TICKGATE_ATOM(throttle_atom, "throttle")
// router -> feed actor: the (route_atom, batch, token) it was sent has been
// handed to the topics: (handed_atom, token).
TICKGATE_ATOM(handed_atom, "handed")

// Admin namespace clients and alerts (actors/connection_admin.hpp, inspector_actor.hpp):
// connection -> inspector: (operate_atom, command, args) -> JSON text, a
// command of a client the connection admitted to an admin namespace.
TICKGATE_ATOM(operate_atom, "operate")
// connection -> inspector: (watch_atom, bool) the client joined (true) or left
// every admin namespace: it gets admin.stats and admin.alert while joined.
TICKGATE_ATOM(watch_atom, "watch")
// inspector -> connection: (adminev_atom, event name, JSON) to its admin namespaces.
TICKGATE_ATOM(adminev_atom, "adminev")
// feed actor -> inspector: (alert_atom, level, kind, message) the node raises an alert.
TICKGATE_ATOM(alert_atom, "alert")
// session -> inspector: a slow consumer was closed (storm detection).
TICKGATE_ATOM(slowclose_atom, "slowclose")
// inspector -> itself: time to push admin.stats to the admin namespace.
TICKGATE_ATOM(adminstat_atom, "adminstat")
// system feed -> inspector: (systopic_atom, topic, alive) a system topic
// ($sys:...) came alive or ended; inspector -> itself: (systopic_atom) time
// to publish $sys:stats.
TICKGATE_ATOM(systopic_atom, "systopic")

// The cluster protocol between node actors (actors/node_actor.hpp): a join,
// a heartbeat, a graceful leave; node actor -> itself: time for a heartbeat;
// anyone -> node actor: (members_atom) the member list as JSON.
TICKGATE_ATOM(join_atom, "join")
TICKGATE_ATOM(beat_atom, "beat")
TICKGATE_ATOM(leave_atom, "leave")
TICKGATE_ATOM(tick_atom, "tick")
TICKGATE_ATOM(members_atom, "members")
// Routing between nodes (actors/peer_feed.hpp): a node follows or leaves a
// topic at its home node (follow_atom, unfollow_atom), forwards publishes
// to the home (forward_atom); the home's relay sends the position a follow
// starts at (synced_atom) and then every event (relay_atom).
TICKGATE_ATOM(follow_atom, "follow")
TICKGATE_ATOM(unfollow_atom, "unfollow")
TICKGATE_ATOM(forward_atom, "forward")
TICKGATE_ATOM(relay_atom, "relay")
TICKGATE_ATOM(synced_atom, "synced")
// Cluster-wide operator commands (actors/cluster_control.hpp): inspector ->
// its node actor: (cluster_atom, command, args) -> JSON, the merged answer of
// every up member; node actor -> a member's node actor, and node actor -> its
// own inspector: (control_atom, command, args) -> JSON, that node's answer.
// Authorised by membership: the asking inspector checked the operator's secret.
TICKGATE_ATOM(cluster_atom, "cluster")
TICKGATE_ATOM(control_atom, "control")

#undef TICKGATE_ATOM

/// One actor's self-description for the inspector (tickgatectl). Counters are
/// the actor's own; `extra` holds kind-specific fields as (key, JSON value).
struct actor_stats {
  std::string kind;
  std::string name;
  uint64_t id = 0;
  uint64_t mailbox = 0;
  uint64_t msgs_in = 0;
  uint64_t msgs_out = 0;
  int64_t age_ms = 0;
  uint64_t restarts = 0;
  std::vector<std::pair<std::string, std::string>> extra;
};

/// The connection actor's interface: every message a connection actor
/// handles, checked wherever it is sent through this handle
/// (connection_actor.hpp says what each one does).
using connection_actor_type = caf::typed_actor<
  caf::reacts_to<client_command>,                          // session
  caf::reacts_to<client_error>,                            // session
  caf::reacts_to<dropped_atom, uint64_t>,                  // session
  caf::reacts_to<closed_atom>,                             // session
  caf::reacts_to<binding_atom, std::string, caf::actor>,   // router
  caf::reacts_to<attached_atom, uint64_t, std::string, caf::actor, topic_position>, // topic
  caf::reacts_to<detached_atom, uint64_t, std::string>,    // topic or router
  caf::reacts_to<kick_atom>,                               // inspector
  caf::reacts_to<broadcast_atom, std::string>,             // inspector
  caf::reacts_to<broadcast_atom, std::string, std::string>, // inspector, for a feed
  caf::reacts_to<adminev_atom, std::string, std::string>,  // inspector
  caf::replies_to<inspect_atom>::with<actor_stats>,        // inspector
  caf::reacts_to<deadline_atom>,                           // itself
  caf::reacts_to<authexp_atom>>;                           // itself

/// A client attached to a topic: who it is (monitored), where its frames go,
/// and which wire format it reads.
struct subscriber {
  connection_actor_type conn;
  session_sink_ptr sink;
  wire_format format = wire_format::json;
  // How the stream starts (since / last / snapshot) and whether it is
  // conflated; null: live events only, every one.
  std::shared_ptr<const subscribe_options> options;
};

using publication_batch = std::vector<publication_ptr>;

/// One event a topic retains, with the seq it was published under.
struct retained_event {
  uint64_t seq = 0;
  publication_ptr pub;
};

/// A question about what a topic retains (HTTP snapshot and history).
struct history_query {
  std::string topic;
  // latest: the most recent retained event only; since: the events after
  // `since` (none: the oldest retained on), at most `limit` of them.
  enum class kind : uint8_t { latest, since } what = kind::latest;
  std::optional<stream_position> since;
  uint32_t limit = 100;
};

/// The answer: where the topic's stream stands and the events asked for,
/// oldest first. `recovered` (kind::since with a position): the position is
/// in the current epoch and every event after it up to `limit` is here.
struct history_reply {
  std::string topic;
  std::string epoch;
  uint64_t seq = 0; // the last seq published
  bool recovered = false;
  std::vector<retained_event> events;
};

/// Reply to `stats_atom` from the router.
struct router_stats {
  uint64_t topics = 0;
  uint64_t subscriptions = 0;
};

} // namespace tickgate

// These types carry pointers (sessions, shared publications) and never leave
// the process; cluster messages get serializable types of their own.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(tickgate::subscriber)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(tickgate::publication_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(tickgate::publication_batch)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(tickgate::router_stats)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(tickgate::history_query)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(tickgate::history_reply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(tickgate::topic_position)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(tickgate::client_command)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(tickgate::client_error)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(tickgate::actor_stats)
