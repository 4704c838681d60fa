#include "tools/tickgate/feeds.hpp"

#include <algorithm>

#include "actors/bus_feed.hpp"
#include "actors/metrics.hpp"
#include "actors/peer_feed.hpp"
#include "actors/relay_outbox.hpp"
#include "net/emitter_feed.hpp"
#include "net/kafka_feed.hpp"
#include "net/redis_feed.hpp"
#include "net/redis_link.hpp"
#include "proto/topic_name.hpp"

namespace tickgate {

namespace {

// A maker reads its feed's options; when they configure it, it adds the feed
// to `out` (or returns an error message naming the bad option).
using feed_maker = std::optional<std::string> (*)(const node_config&, node_feeds&);

// The connection settings every feed on redis.url shares.
net::redis_link_settings link_settings(const node_config& cfg, const net::redis_endpoint& ep) {
  using std::chrono::duration_cast;
  using std::chrono::milliseconds;
  net::redis_link_settings link;
  link.endpoint = ep;
  link.reconnect_min = std::max(milliseconds{10}, duration_cast<milliseconds>(cfg.redis_reconnect_min));
  link.reconnect_max = std::max(link.reconnect_min, duration_cast<milliseconds>(cfg.redis_reconnect_max));
  link.max_pending_publishes = cfg.redis_max_pending_publishes;
  return link;
}

// [redis]: on when redis.url is set (or REDIS_URL / REDIS_HOST / REDIS_PORT).
std::optional<std::string> make_redis(const node_config& cfg, node_feeds& out) {
  if (cfg.redis_url.empty())
    return std::nullopt;
  std::string error;
  auto ep = net::redis_endpoint::parse(cfg.redis_url, error);
  if (!ep)
    return "redis.url: " + error;
  net::redis_feed_settings feed_cfg;
  if (auto err = net::channel_map::parse(cfg.redis_mappings, feed_cfg.mapping))
    return "redis.mappings: " + *err;
  feed_cfg.patterns = cfg.redis_patterns;
  feed_cfg.max_payload_bytes = cfg.redis_max_payload_bytes;
  // A suffix made only of topic characters could end a topic's own channel.
  if (!cfg.redis_snapshot_suffix.empty() && is_valid_topic(cfg.redis_snapshot_suffix))
    return "redis.snapshot-suffix: needs a character outside the topic alphabet, e.g. '#'";
  feed_cfg.snapshot_suffix = cfg.redis_snapshot_suffix;
  if (!cfg.redis_event_suffix.empty() && is_valid_topic(cfg.redis_event_suffix))
    return "redis.event-suffix: needs a character outside the topic alphabet, e.g. '#'";
  if (!cfg.redis_event_suffix.empty() && cfg.redis_event_suffix == cfg.redis_snapshot_suffix)
    return "redis.event-suffix: must differ from redis.snapshot-suffix";
  feed_cfg.event_suffix = cfg.redis_event_suffix;
  auto& numbering = feed_cfg.numbering;
  if (cfg.redis_numbering == "on" || cfg.redis_numbering == "auto")
    numbering.on = cfg.redis_numbering == "on" || cfg.cluster.enabled();
  else if (cfg.redis_numbering != "off")
    return "redis.numbering: on, off or auto, not '" + cfg.redis_numbering + "'";
  if (numbering.on && cfg.redis_event_suffix.empty())
    return "redis.numbering: needs redis.event-suffix (numbered publishes travel on the event twin)";
  auto ttl = std::chrono::duration_cast<std::chrono::seconds>(cfg.redis_stream_ttl);
  if (ttl.count() < 1)
    return "redis.stream-ttl: at least 1s";
  numbering.stream_size = cfg.redis_stream_size;
  numbering.ttl = ttl;
  numbering.key_prefix = cfg.redis_key_prefix;
  feed_cfg.endpoint = ep->describe();
  out.all.push_back(std::make_shared<net::redis_feed>(
    std::move(feed_cfg), std::make_shared<net::redis_link>(link_settings(cfg, *ep))));
  return std::nullopt;
}

// [socketio]: on with socketio.redis-emitter=true; its own Redis connection
// to redis.url, with the [redis] reconnect timings and payload limit.
std::optional<std::string> make_emitter(const node_config& cfg, node_feeds& out) {
  if (!cfg.socketio_redis_emitter)
    return std::nullopt;
  if (cfg.redis_url.empty())
    return "socketio.redis-emitter: needs redis.url (the Redis the emitters publish to)";
  auto& prefix = cfg.socketio_redis_channel_prefix;
  if (prefix.empty() || prefix.find('#') != std::string::npos)
    return "socketio.redis-channel-prefix: must be non-empty and without '#'";
  std::string error;
  auto ep = net::redis_endpoint::parse(cfg.redis_url, error);
  if (!ep)
    return "redis.url: " + error;
  net::emitter_feed_settings feed_cfg;
  feed_cfg.prefix = prefix;
  feed_cfg.max_payload_bytes = cfg.redis_max_payload_bytes;
  feed_cfg.endpoint = ep->describe();
  auto link = link_settings(cfg, *ep);
  link.log_name = "emitter";
  link.reconnects = &node_metrics().emitter_reconnects;
  out.all.push_back(std::make_shared<net::emitter_feed>(std::move(feed_cfg),
                                                        std::make_shared<net::redis_link>(link)));
  return std::nullopt;
}

// [kafka]: on when kafka.brokers is set (or KAFKA_BROKERS). Kafka only
// delivers; HTTP publishes go to Redis or the bus.
std::optional<std::string> make_kafka(const node_config& cfg, node_feeds& out) {
  if (cfg.kafka.brokers.empty())
    return std::nullopt;
  net::kafka_feed_settings settings;
  if (auto err = cfg.kafka.apply(settings))
    return err;
  out.all.push_back(std::make_shared<net::kafka_feed>(std::move(settings)));
  return std::nullopt;
}

// [cluster] without Redis: the peer nodes carry the data (each topic homed
// on one node). With Redis, Redis is the data path and the cluster carries
// membership and control only.
std::optional<std::string> make_peers(const node_config& cfg, node_feeds& out) {
  if (!cfg.cluster.enabled() || !cfg.redis_url.empty())
    return std::nullopt;
  if (!cfg.kafka.brokers.empty())
    return "kafka.brokers: a cluster without Redis numbers each topic on its home node, which "
           "Kafka deliveries would bypass; give the cluster redis.url";
  out.all.push_back(std::make_shared<peer_feed>(cfg.node_id, std::max<size_t>(2 * relay_confirm_every, cfg.cluster.relay_window)));
  return std::nullopt;
}

// Every kind of upstream, in the order that picks the publishing feed.
constexpr feed_maker makers[] = {make_redis, make_kafka, make_emitter, make_peers};

} // namespace

std::string node_feeds::mode() const {
  if (all.size() == 1 && all.front()->name() == "bus")
    return "embedded";
  if (all.size() == 1 && all.front()->name() == "peers")
    return "cluster"; // embedded on every node, the data path between them
  std::string out;
  for (auto& f : all) {
    if (!out.empty())
      out += '+';
    out += f->name();
  }
  return out;
}

std::optional<std::string> make_feeds(const node_config& cfg, node_feeds& out) {
  for (auto make : makers)
    if (auto err = make(cfg, out))
      return err;
  // The publishing feed: the first that accepts publishes; the bus when
  // none does (no upstream, or only delivering ones such as Kafka).
  auto accepts = [](auto& f) { return f->accepts_publishes(); };
  auto first = std::find_if(out.all.begin(), out.all.end(), accepts);
  if (first == out.all.end()) {
    out.all.insert(out.all.begin(), std::make_shared<bus_feed>());
    first = out.all.begin();
  }
  out.publishing = static_cast<size_t>(first - out.all.begin());
  return std::nullopt;
}

} // namespace tickgate
