#include "tools/tickgate/feeds.hpp"

#include <algorithm>

#include "actors/bus_feed.hpp"
#include "net/redis_feed.hpp"
#include "net/redis_link.hpp"
#include "proto/topic_name.hpp"

namespace tickgate {

namespace {

// A maker reads its feed's options; when they configure it, it adds the feed
// to `out` (or returns an error message naming the bad option).
using feed_maker = std::optional<std::string> (*)(const node_config&, node_feeds&);

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
  feed_cfg.endpoint = ep->describe();
  using std::chrono::duration_cast;
  using std::chrono::milliseconds;
  net::redis_link_settings link;
  link.endpoint = *ep;
  link.reconnect_min = std::max(milliseconds{10}, duration_cast<milliseconds>(cfg.redis_reconnect_min));
  link.reconnect_max = std::max(link.reconnect_min, duration_cast<milliseconds>(cfg.redis_reconnect_max));
  link.max_pending_publishes = cfg.redis_max_pending_publishes;
  out.all.push_back(std::make_shared<net::redis_feed>(std::move(feed_cfg),
                                                      std::make_shared<net::redis_link>(link)));
  return std::nullopt;
}

// Every kind of upstream, in the order that picks the publishing feed.
constexpr feed_maker makers[] = {make_redis};

} // namespace

std::string node_feeds::mode() const {
  if (all.size() == 1 && all.front()->name() == "bus")
    return "embedded";
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
  if (out.all.empty())
    out.all.push_back(std::make_shared<bus_feed>());
  out.publishing = 0;
  return std::nullopt;
}

} // namespace tickgate
