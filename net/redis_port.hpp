#pragma once

#include <string>
#include <utility>
#include <vector>

namespace tickgate::net {

/// One message Redis delivered on a subscribed channel.
struct redis_message {
  std::string channel;
  std::string payload;
};

/// Everything the Redis link read in one go, in arrival order.
using redis_batch = std::vector<redis_message>;

/// What the Redis link reports, on its own thread, in order.
class redis_listener {
public:
  virtual ~redis_listener() = default;

  /// Both connections are ready (`up`), or one was lost (`reason`).
  virtual void on_link(bool up, const std::string& reason) = 0;
  /// Redis confirmed a SUBSCRIBE (`is_pattern` false) or PSUBSCRIBE.
  virtual void on_subscribed(const std::string& name, bool is_pattern) = 0;
  /// The messages of one read; those before a confirmation come before it.
  virtual void on_messages(redis_batch& batch) = 0;
};

/// What the Redis feed needs from a Redis connection; net/redis_link
/// implements it, tests use a fake. Every command is thread-safe, returns at
/// once and never blocks on I/O; commands while the link is down are dropped
/// (the feed sends everything again when it is back).
class redis_port {
public:
  virtual ~redis_port() = default;

  /// Starts connecting; reports go to `listener` from then on.
  virtual void start(redis_listener* listener) = 0;
  /// Closes the connections; no report follows.
  virtual void stop() = 0;

  virtual void subscribe(std::vector<std::string> channels) = 0;
  virtual void unsubscribe(std::vector<std::string> channels) = 0;
  virtual void psubscribe(std::vector<std::string> patterns) = 0;

  /// PUBLISHes each (channel, payload), pipelined, in order.
  virtual void publish(std::vector<std::pair<std::string, std::string>> messages) = 0;
};

} // namespace tickgate::net
