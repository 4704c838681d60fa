#pragma once

#include <bitset>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/actor.hpp>
#include <caf/behavior.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/rate_limit.hpp"
#include "actors/auth.hpp"
#include "actors/metrics.hpp"
#include "actors/settings.hpp"
#include "actors/small_map.hpp"
#include "actors/user_registry.hpp"
#include "actors/vocabulary.hpp"
#include "proto/frame_codec.hpp"

namespace tickgate {

/// One per client connection: owns the client's subscription set and answers
/// its requests. Its session (net/) sends it decoded frames; it reaches the
/// client only through the session's sink.
///
/// Messages (the interface connection_actor_type in vocabulary.hpp; the
/// compiler checks every send through that handle against it, i.e. the
/// session's, the router's and the topics'; the inspector holds every actor
/// as caf::actor, so its kick, broadcast and inspect are matched at run time):
///   client_command       -> subscribe / unsubscribe / list / ping / auth, in any dialect
///                           (auth also carries Socket.IO CONNECTs; see connection_auth.hpp)
///   client_error         -> the session could not decode a frame: error frame
///   (dropped_atom, count) -> the session's drop-oldest policy lost events: tell the client
///   (closed_atom)        -> the socket is gone: quit (topics drop us on down_msg)
///   (binding_atom, name, topic) -> the router chose `topic`: monitor it from now on
///   (attached_atom, req, name, topic, position), (detached_atom, req, name) -> completes requests
///   (kick_atom)          -> an operator closes the client
///   (broadcast_atom, json) -> a system message to the client
///   (adminev_atom, name, json) -> admin.stats / admin.alert into the client's admin namespaces
///                           (admin events themselves: connection_admin.hpp)
///   (inspect_atom)       -> actor_stats
///   (deadline_atom)      -> the idle timeout ran out: close unless the client subscribed
///   (authexp_atom)       -> expiry timer: if the token ran out, close private subscriptions
/// One behaviour serves the whole life: closing (below) only stops admitting
/// client input, which one check in the rate limiter's path does; a second
/// behaviour would repeat the other nine handlers.
/// Client messages pass the inbound rate limit first (actors/rate_limit.hpp):
/// over it they are dropped with a rate_limited error (at most one per
/// notice interval); sustained flooding closes 1008 "rate limit exceeded".
/// A topic that fails is attached again; its new incarnation sends the client
/// a `reset` with the new epoch before any event. A failure of this actor
/// closes only its own client (1011).
/// Acks go out once every topic of the request confirmed, so a publish made
/// after the client saw the ack reaches it. A subscribe's ack carries each
/// topic's position; after sending it the actor releases the topics, which
/// then send the client's replay and live events: the ack comes first.

/// What the edge learned from the client's WebSocket handshake.
struct client_info {
  std::string dialect; // of the listener path
  std::string origin;  // Origin header (empty: none)
  std::string token;   // bearer token from `Authorization: Bearer` or `?token=` (empty: none)
};

/// The Socket.IO namespaces one connection is in, counted in the node's
/// conn_by_namespace gauges while it is (and no longer once it is gone).
class namespace_tally {
public:
  namespace_tally() = default;
  namespace_tally(const namespace_tally&) = delete;
  namespace_tally& operator=(const namespace_tally&) = delete;
  ~namespace_tally();

  void join(uint8_t ns);
  void leave(uint8_t ns);

private:
  std::bitset<metrics::max_namespaces> in_;
};

struct connection_state {
  struct pending_request {
    client_op op = client_op::subscribe;
    reply_to to;
    std::vector<std::string> names; // as the client named them, for the ack
    size_t outstanding = 0;         // confirmations still to come
    // subscribe: where each topic's stream starts (for the ack) and the
    // topics to release once the ack went out.
    std::vector<topic_position> positions;
    std::vector<caf::actor> release;
    bool silent = false; // the node's own subscribe: no ack to send
  };
  // Client requests in the order they came; acks go out in that order (a
  // request confirmed early waits for the ones before it).

  session_sink_ptr sink;
  // The client's address:port, for logs. The session keeps it (one copy per
  // connection, not two); this asks for it under the session's lock.
  std::string peer() const { return sink ? sink->stats().addr : std::string{}; }
  caf::actor router;
  std::shared_ptr<const routing_settings> settings; // shared by every connection

  struct subscription {
    caf::actor topic; // null while the attach is in flight
    wire_format format = wire_format::json;
    std::string name; // as the client named it (symbol, room, topic)
    uint64_t pending_req = 0; // the client request still waiting for this topic's confirmation
    uint32_t throttle_ms = 0; // conflation asked for; kept when the topic is attached again
    // The client asked for it, so it counts toward the limits (per user, per
    // namespace); rooms the node joined on the client's behalf do not.
    bool counted = true;
  };

  // Subscriptions, including those still being attached.
  // Invariant: topic_names[t.id()] == n exactly when subs[n].topic == t (t not
  // null); both change only in bind_topic/drop_subscription.
  small_map<std::string, subscription> subs;
  small_map<caf::actor_id, std::string> topic_names;

  // Topics the client left whose answers are still owed: the detach's and,
  // if the subscribe was not yet confirmed, the subscribe's request. If the
  // topic dies first, its down_msg settles them, so the client always gets
  // its acks. A topic is monitored while it is in topic_names or here.
  struct owed_answers {
    caf::actor topic;
    std::vector<uint64_t> requests;
  };
  small_map<caf::actor_id, owed_answers> owed;
  // The same for subscriptions left before the router said which topic
  // serves them (its binding_atom moves the entry to `owed`).
  small_map<std::string, std::vector<uint64_t>> leaving;

  std::map<uint64_t, pending_request> pending;
  uint64_t next_request = 1; // 0 marks internal re-attaches: no ack, a reset frame instead

  inbound_limiter limiter{nullptr}; // points at settings.inbound once the actor starts
  // Who the client proved to be (connection_auth.cpp); null until first
  // written, which most clients never cause.
  std::unique_ptr<auth_state> auth;
  // The counted subscriptions, under the user the client proves
  // (limits.max-channels-per-user). Invariant: quota.held() is the number of
  // subs entries with `counted`; it changes with them in subscribe and
  // drop_subscription only.
  user_quota quota;
  namespace_tally namespaces;

  bool subscribed_once = false;     // the idle timeout spares connections that ever subscribed
  bool closing = false;             // closed by this actor: ignore what the client still sends
  wire_format last_format = wire_format::json; // of the last request (broadcasts use it)
  uint64_t commands = 0;                       // client requests handled
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();

  static inline const char* name = "connection";
};

/// The connection actor itself: a typed actor with connection_state whose
/// behaviour all connections share. A behaviour built per actor holds a copy
/// of each handler (with its captured `self`) and a lookup array. Measured
/// with 20,000 spawned typed actors of this interface's 12 handlers: 1,631
/// heap bytes per actor with a behaviour each, 1,089 with a shared one, i.e.
/// 542 bytes, a fifth of an idle connection's server memory. The shared
/// handlers find their actor through running(), which consume() sets while
/// this actor handles a message, on whichever thread runs it (a CAF worker or
/// an I/O thread, actors/scheduler.hpp).
class connection_self_actor
  : public caf::stateful_actor<connection_state, connection_actor_type::base> {
public:
  using caf::stateful_actor<connection_state, connection_actor_type::base>::stateful_actor;

  /// The connection actor handling a message on this thread.
  static connection_self_actor* running() { return running_; }

  caf::invoke_message_result consume(caf::mailbox_element& x) override;

private:
  static thread_local connection_self_actor* running_;
};

using connection_self = connection_self_actor*;

connection_actor_type::behavior_type
connection_actor(connection_self self, session_sink_ptr sink, caf::actor router,
                 std::shared_ptr<const routing_settings> settings, client_info client);

/// A Socket.IO namespace `ns` was admitted: with
/// dialects().socketio_namespace_topics, follow the namespace's own topic
/// (emitter::namespace_topic) without telling the client, so namespace-wide
/// emits reach it; the namespace's DISCONNECT leaves it with its rooms.
void follow_namespace(connection_self self, uint8_t ns);

/// Drops `topics` from the subscription set and detaches them from their
/// topics without acking anyone (the caller tells the client why).
void close_subscriptions(connection_self self, const std::vector<std::string>& topics);

/// Subscribes `topics` in format `f` on the node's account rather than the
/// client's (the rooms a Socket.IO /user client joins on connect): no limit
/// applies to them and they count toward none; a topic the connection
/// follows in another namespace stays there. Once every topic confirmed,
/// the client gets the ack `ctx` asks for.
void join_on_own_account(connection_self self, const wire_format& f,
                         std::vector<std::string> topics, request_ctx ctx);

} // namespace tickgate
