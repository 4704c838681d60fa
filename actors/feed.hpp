#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <caf/actor.hpp>
#include <caf/send.hpp>

#include "actors/vocabulary.hpp"

namespace tickgate {

/// How a feed reports to its feed actor. Thread-safe: an implementation may
/// call it from its own I/O thread. Reports from one thread arrive in order.
class feed_reports {
public:
  feed_reports() = default;
  explicit feed_reports(caf::actor owner) : owner_(std::move(owner)) {}

  /// The feed actor the reports go to.
  const caf::actor& owner() const { return owner_; }

  /// The upstream became reachable (`up`) or was lost; `reason` says why it is
  /// down in words a client can read ("redis unavailable: connection lost").
  void status(bool up, std::string reason) const {
    caf::anon_send(owner_, link_atom_v, up, std::move(reason));
  }

  /// The upstream now delivers these followed topics (a follow() that did not
  /// confirm at once, or every followed topic again after a reconnect).
  void confirmed(std::vector<std::string> topics) const {
    caf::anon_send(owner_, subscribed_atom_v, std::move(topics));
  }

  /// For a feed whose topics are numbered elsewhere (peer nodes: the
  /// topic's home node): the upstream delivers `topic` from this position
  /// on, as the home numbers it; an empty `epoch` means this node numbers
  /// the topic from now on (its home moved here). Confirms the topic like
  /// confirmed({topic}), and again whenever its home changes; the topic
  /// takes the position (a reset for its subscribers if it breaks their
  /// stream).
  void positioned(std::string topic, std::string epoch, uint64_t seq) const {
    caf::anon_send(owner_, subscribed_atom_v, std::move(topic), std::move(epoch), seq);
  }

  /// Like positioned(topic, epoch, seq), with the upstream's recent events
  /// of the topic up to that position (numbered, oldest first; Redis'
  /// stream of the topic): the topic retains what it lacks, and sends it to
  /// subscribers it already has.
  void positioned(std::string topic, std::string epoch, uint64_t seq,
                  publication_batch backfill) const {
    caf::anon_send(owner_, subscribed_atom_v, std::move(topic), std::move(epoch), seq,
                   std::move(backfill));
  }

  /// Publications that arrived from the upstream, in arrival order.
  void deliver(publication_batch batch) const {
    caf::anon_send(owner_, deliver_atom_v, std::move(batch));
  }

  /// Like deliver(batch), for a feed that must know when its publications
  /// are safe (Kafka commits a record's offset only then): once the router
  /// has handed every publication of `batch` to its topic actor (or found
  /// no live topic for it), the feed actor calls feed::handed(token).
  /// Tokens are the feed's own; confirmations of different tokens may
  /// arrive in any order relative to each other's deliveries' arrival.
  void deliver(publication_batch batch, uint64_t token) const {
    caf::anon_send(owner_, deliver_atom_v, std::move(batch), token);
  }

  /// A node-wide system message to every connected client (the inspector's
  /// broadcast path, as an operator's `broadcast`): `json` is a valid JSON
  /// value, `event` the Socket.IO event name it is emitted under (empty:
  /// "system"). feed::handed(token) follows once it was handed to the
  /// inspector, which fans it out.
  void broadcast(std::string json, std::string event, uint64_t token) const {
    caf::anon_send(owner_, broadcast_atom_v, std::move(json), std::move(event), token);
  }

private:
  caf::actor owner_;
};

/// What `feed::publish` did with a batch.
enum class publish_outcome {
  upstream, // sent out; it comes back through deliver() like any other publication
  local,    // the feed is in-process: the node delivers the batch itself, now
};

/// An upstream that delivers publications for the topics the node is
/// interested in, and accepts publishes: the in-process bus (actors/bus_feed),
/// Redis pub/sub (net/redis_feed). Each feed is driven by one `feed_actor`,
/// which keeps the topic actors' side (who follows what, feed up/down status
/// frames, awaiting_feed confirmations); the feed keeps the upstream's side
/// (its subscriptions, names, connection).
///
/// The feed actor calls every method below from its own context, one call at
/// a time, and never before start(). None of them may block on I/O: hand the
/// work to the feed's own thread and report back through `feed_reports`.
///
/// Adding a feed (Kafka, peer nodes, ...):
///   1. One file pair implementing this interface: in actors/ if it needs no
///      I/O library, in net/ otherwise (nothing in actors/ may include one).
///   2. Its options (a section of their own in tools/tickgate/node_config) and
///      a maker in tools/tickgate/feeds.cpp, which builds the node's feeds
///      from its configuration. The node spawns one feed actor per
///      feed, tells every one of them its topics' interest, and sends HTTP
///      publishes to the one chosen as the publishing feed.
/// Nothing else changes: topics count the node's feeds and are up only while
/// every feed that follows them is.
class feed {
public:
  virtual ~feed() = default;

  /// Short name: log prefix and the inspector entry's name ("bus", "redis").
  virtual std::string name() const = 0;

  /// Where the upstream is, for the node's info ("" for in-process feeds).
  virtual std::string endpoint() const { return {}; }

  /// Status before the first report: in-process feeds are up at once; a feed
  /// that connects starts down ("redis not connected yet").
  virtual bool up_at_start() const = 0;
  virtual std::string down_at_start_reason() const { return name() + " not connected yet"; }

  /// Starts reporting to `reports` (and connecting, for a feed with I/O).
  virtual void start(feed_reports reports) = 0;

  /// Ends the feed's I/O; called by the node at shutdown, off the actor, and
  /// may wait for the feed's thread.
  virtual void stop() {}

  /// The node now has a live topic `topic`. Returns true when the topic is
  /// delivered from now on (nothing to wait for); otherwise the feed reports
  /// confirmed({topic}) once it is, which may be never while the feed is down.
  /// A feed follows its topics across reconnects by itself and confirms them
  /// again once it is back (status(true), then confirmed(...) for each topic
  /// as the upstream delivers it again; after a down report the feed actor
  /// counts none of them as delivered).
  virtual bool follow(const std::string& topic) = 0;

  /// The node no longer has a live topic `topic` (follow()ed before).
  virtual void unfollow(const std::string& topic) = 0;

  /// True only for the node's system feed (actors/system_feed.hpp): it alone
  /// follows the system topics ($sys:...), and other feeds never do, nor may
  /// deliver to them (the feed actor drops such publications).
  virtual bool system() const { return false; }

  /// False for a feed that only delivers (Kafka): the node then sends its
  /// HTTP publishes to another feed (the bus when there is no other).
  virtual bool accepts_publishes() const { return true; }

  /// Publishes `batch` (the node's HTTP API, the admin broadcast, the demo
  /// feed). A feed that cannot send now (down, backlog full) drops the batch
  /// and counts it; publishes are never queued across an outage.
  virtual publish_outcome publish(const publication_batch& batch) = 0;

  /// The deliveries and broadcasts reported with `token` were handed on
  /// (feed_reports::deliver(batch, token), broadcast(...)). Called from the
  /// feed actor; must not block.
  virtual void handed(uint64_t /*token*/) {}

  /// Adds the feed's own fields to its inspector entry (counters, upstream
  /// subscriptions).
  virtual void describe(actor_stats&) const {}
};

} // namespace tickgate
