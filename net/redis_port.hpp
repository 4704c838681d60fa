#pragma once

#include <cstdint>
#include <functional>
#include <optional>
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

/// A Redis reply, as much of it as the feeds read: a string (bulk or
/// status), an integer, nil, or an array of these.
struct redis_value {
  enum class type : uint8_t { nil, string, integer, array };
  type what = type::nil;
  std::string str;
  int64_t integer = 0;
  std::vector<redis_value> elements;
};

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

  /// Sends each command (argument vectors, e.g. an EVAL that publishes)
  /// like publish(): pipelined in order with the PUBLISHes, counted
  /// against the same backlog, a failure counted as a dropped publish.
  virtual void publish_commands(std::vector<std::vector<std::string>> commands) = 0;

  /// Runs one command on the command connection and calls `done` with its
  /// reply on the link's thread, never from inside the call: nullopt and an
  /// empty `error` when the link is down or drops before the answer (its
  /// down report is out or follows); an error reply as nullopt with `error`
  /// set to Redis' message.
  using query_done = std::function<void(std::optional<redis_value> reply, std::string error)>;
  virtual void query(std::vector<std::string> args, query_done done) = 0;
};

} // namespace tickgate::net
