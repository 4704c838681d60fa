#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include <caf/actor.hpp>
#include <caf/behavior.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/relay_outbox.hpp"
#include "actors/vocabulary.hpp"

namespace tickgate {

/// On a topic's home node: one other node's interest in this node's topics.
/// It subscribes to each topic the node follows here like a client does
/// (through the router, so the topic lives while a peer follows it, and a
/// restarted topic is attached again), in the relay wire format: the topic
/// encodes each event once for every peer, and the relay's sink sends the
/// bytes straight to the peer's link actor (relay_atom). A follow with a
/// position resumes after it when the topic's history allows.
///
/// Messages:
///   (follow_atom, T, epoch, seq) / (unfollow_atom, T)  <- this node's peer link
///   (binding_atom, ...), (attached_atom, ...), (detached_atom, ...) <- router, topics:
///       attached -> (synced_atom, T, epoch, seq, recovered, frames) to the peer, then
///       the topic releases the stream; frames: for a follow without a position,
///       the topic's retained events (at most relay_backfill_limit), else none
///   down of a topic it follows: attaches again (the restarted topic's reset reaches the peer)
///   (tick_atom)                    <- its sink: frames are queued in the outbox; send them,
///       as (relay_atom, frame) or, several queued, (relay_atom, vector<frame>)
///   (handed_atom, n)               <- the peer: n more frames handed on (the outbox's window)
/// Handled through the connection interface's handle: topics see a subscriber.
struct relay_state {
  caf::actor peer;   // the following node's link actor
  caf::actor router;
  session_sink_ptr sink;
  std::shared_ptr<relay_outbox> outbox;
  // Followed topics and the topic actor each is attached to (null until bound).
  std::unordered_map<std::string, caf::actor> topics;
  // Followed from scratch (no position): their retained events go with the position.
  std::unordered_set<std::string> fresh;
  uint64_t next_req = 1;

  static inline const char* name = "relay";
};

/// Retained events a relay sends with the position of a topic followed from scratch.
constexpr uint32_t relay_backfill_limit = 1000;

caf::behavior relay_actor(caf::stateful_actor<relay_state>* self, caf::actor peer,
                          caf::actor router, size_t window);

} // namespace tickgate
