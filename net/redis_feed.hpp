#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "actors/feed.hpp"
#include "net/channel_map.hpp"
#include "net/redis_numbering.hpp"
#include "net/redis_port.hpp"

namespace tickgate::net {

/// Messages of one channel held while its position is read (numbering).
constexpr size_t max_held_messages = 10'000;

struct redis_feed_settings {
  channel_map mapping;                    // topic <-> channel templates
  std::vector<std::string> patterns;      // PSUBSCRIBEd at link-up; channels they cover get no SUBSCRIBE
  size_t max_payload_bytes = 1024 * 1024; // larger Redis messages are dropped and counted
  std::string endpoint;                   // for logs and the node's info
  // A message on a channel with this suffix is a snapshot of the topic of the
  // channel without it (publishers' convention; '#' is outside the topic
  // alphabet). Empty: no snapshot channels.
  std::string snapshot_suffix = "#snapshot";
  // A message on a channel with this suffix carries an event envelope
  // (proto/event_envelope.hpp): the publisher's event name, and perhaps a
  // snapshot mark, before the payload of the topic of the channel without
  // it. Empty: no event channels (event names do not travel through Redis).
  std::string event_suffix = "#event";
  // Positions from Redis (net/redis_numbering.hpp); needs event_suffix.
  redis_numbering numbering;
};

/// Redis pub/sub as the node's feed: one Redis channel per followed topic
/// (SUBSCRIBE on follow, UNSUBSCRIBE when the last topic of a channel goes),
/// plus the configured patterns; PUBLISH for publishes. Topics and channels
/// map through `channel_map`; two topic names may share a channel. After a
/// reconnect it subscribes every channel again and confirms each channel's
/// topics when Redis does.
///
/// Snapshots: each channel has a twin, the channel plus `snapshot_suffix`,
/// on which publishers send a topic's full state; the feed subscribes and
/// unsubscribes the twin in the same command as its channel (so Redis'
/// confirmation of the channel covers both) and PUBLISHes snapshot
/// publications there. Exact twins rather than one `*#snapshot` pattern:
/// a pattern costs Redis a match on every PUBLISH of every client and
/// would bring snapshots of topics nobody here follows. A configured
/// pattern covers the twins of its channels when it ends in `*`; for any
/// other pattern the feed also PSUBSCRIBEs the pattern plus the suffix.
///
/// Event names: a second twin, the channel plus `event_suffix`, carries
/// publications that have an event name ("order.filled") in an envelope
/// (proto/event_envelope.hpp), a named snapshot included; unnamed ones keep
/// going out as plain payloads on the channel or its snapshot twin, so
/// plain PUBLISHes of other publishers work as before. Cost: one more
/// channel per followed channel in the same SUBSCRIBE / UNSUBSCRIBE (three
/// with snapshots on); Redis' PUBLISH cost does not grow with the number of
/// channels, only with the subscribers of the one published to. One link
/// carries all of the node's PUBLISHes, so a topic's named and unnamed
/// publications reach every node in publish order.
///
/// Numbering (settings.numbering.on): publishes go out through the
/// numbering script, on the event twin with their position; a followed
/// channel is confirmed only once its position and retained stream were
/// read (after Redis confirmed the SUBSCRIBE, again after every
/// reconnect): its topics get positioned(topic, epoch, seq, stream), and
/// the channel's messages that arrived meanwhile are held and delivered
/// after it. Messages without a position (another publisher's plain
/// PUBLISH) are delivered as ever; the topic numbers them itself.
///
/// Threads: follow/unfollow/publish come from the feed actor, the link's
/// reports from the link's loop thread; `mtx_` guards the subscription state
/// both touch. Messages take no lock: mapping a channel to its topic only
/// reads the immutable settings.
class redis_feed : public feed, public redis_listener {
public:
  redis_feed(redis_feed_settings settings, std::shared_ptr<redis_port> link);

  std::string name() const override { return "redis"; }
  std::string endpoint() const override { return settings_.endpoint; }
  bool up_at_start() const override { return false; }
  void start(feed_reports reports) override;
  void stop() override;
  bool follow(const std::string& topic) override;
  void unfollow(const std::string& topic) override;
  publish_outcome publish(const publication_batch& batch) override;
  void describe(actor_stats& s) const override;

  void on_link(bool up, const std::string& reason) override;
  void on_subscribed(const std::string& name, bool is_pattern) override;
  void on_messages(redis_batch& batch) override;

private:
  struct channel_entry {
    std::vector<std::string> topics; // usually one
    bool confirmed = false;          // Redis confirmed it (or its pattern) on this connection
    uint64_t id = 0;                 // this entry's, unique: a read answers only the entry that asked
    int loading = 0;                 // position reads in flight (numbering)
    redis_batch held;                // its messages that arrived during them
  };

  // Numbering: reads `channel`'s position and stream for `topics`. mtx_ held.
  void load(const std::string& channel, std::vector<std::string> topics);
  void on_loaded(const std::string& channel, uint64_t id, const std::vector<std::string>& topics,
                 uint64_t generation, std::optional<redis_value> reply, const std::string& error);
  // The publication a message on `channel` carries (for `topic` if given,
  // else the channel's); null if it is dropped (counted).
  publication_ptr to_publication(std::string_view channel, std::string payload, int64_t ts,
                                 const std::string* topic = nullptr) const;
  void deliver(redis_batch& batch);

  const std::string* covering_pattern(const std::string& channel) const;
  // `channel` and its twins (snapshot, event) where their suffixes are set.
  std::vector<std::string> with_twin(const std::string& channel) const;
  // The configured twin suffixes (empty ones left out).
  std::vector<std::string> suffixes() const;
  // The configured patterns plus the twins' patterns they need.
  std::vector<std::string> patterns_to_subscribe() const;

  const redis_feed_settings settings_;
  const std::shared_ptr<redis_port> link_;
  feed_reports reports_;

  mutable std::mutex mtx_;
  bool up_ = false;
  // Invariant: channels_ holds exactly the channels of followed topics.
  std::unordered_map<std::string, channel_entry> channels_;
  std::unordered_map<std::string, bool> pattern_confirmed_;
  uint64_t generation_ = 0; // link-downs so far: a read's answer from before one is void
  uint64_t next_channel_id_ = 0;
};

} // namespace tickgate::net
