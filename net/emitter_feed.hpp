#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_set>

#include "actors/feed.hpp"
#include "net/redis_port.hpp"

namespace tickgate::net {

struct emitter_feed_settings {
  std::string prefix = "socket.io";       // the emitter's / adapter's `key`
  size_t max_payload_bytes = 1024 * 1024; // larger messages are skipped and counted
  std::string endpoint;                   // for logs and the node's info
};

/// Socket.IO Redis emitter and adapter traffic as a feed: what
/// @socket.io/redis-emitter and the broadcasts of Socket.IO servers with
/// @socket.io/redis-adapter PUBLISH on `<prefix>#<nsp>#[<room>#]`
/// (proto/emitter_packet.hpp) reaches this node's clients: an emit to rooms
/// goes to the topics of those names, a namespace-wide one to the
/// namespace's own topic, which every Socket.IO client of the namespace
/// follows; `except` rooms and multi-room emits travel as the publications'
/// skip lists. One PSUBSCRIBE covers every namespace and room, so the feed
/// delivers every topic the node has once Redis confirms it; a second one
/// (`<prefix>-request#*`) only counts the adapters' requests, which a
/// gateway cannot answer. Never the publishing feed.
///
/// Threads: follow/unfollow come from the feed actor, the link's reports
/// from its loop thread; `mtx_` guards what both touch.
class emitter_feed : public feed, public redis_listener {
public:
  emitter_feed(emitter_feed_settings settings, std::shared_ptr<redis_port> link);

  std::string name() const override { return "emitter"; }
  std::string endpoint() const override { return settings_.endpoint; }
  bool up_at_start() const override { return false; }
  void start(feed_reports reports) override;
  void stop() override;
  bool follow(const std::string& topic) override;
  void unfollow(const std::string& topic) override;
  bool accepts_publishes() const override { return false; }
  publish_outcome publish(const publication_batch& batch) override;
  void describe(actor_stats& s) const override;

  void on_link(bool up, const std::string& reason) override;
  void on_subscribed(const std::string& name, bool is_pattern) override;
  void on_messages(redis_batch& batch) override;

private:
  const emitter_feed_settings settings_;
  const std::string broadcasts_; // the PSUBSCRIBE pattern of emits
  const std::string requests_;   // the PSUBSCRIBE pattern of adapter requests
  const std::string request_prefix_;
  const std::shared_ptr<redis_port> link_;
  feed_reports reports_;

  mutable std::mutex mtx_;
  bool up_ = false;
  bool confirmed_ = false; // Redis confirmed `broadcasts_` on this connection
  // Invariant: exactly the followed topics.
  std::unordered_set<std::string> topics_;
};

} // namespace tickgate::net
