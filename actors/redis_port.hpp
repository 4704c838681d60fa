#pragma once

#include <string>
#include <utility>
#include <vector>

namespace tickgate {

/// What the bridge actor needs from a Redis connection; net/redis_link
/// implements it, tests use a fake. Every call is thread-safe, returns at once
/// and never blocks on I/O. Results come back to the bridge as messages:
/// (link_atom, up, reason), (subscribed_atom, name, is_pattern), redis_batch.
class redis_port {
public:
  virtual ~redis_port() = default;

  virtual void subscribe(std::vector<std::string> channels) = 0;
  virtual void unsubscribe(std::vector<std::string> channels) = 0;
  virtual void psubscribe(std::vector<std::string> patterns) = 0;

  /// PUBLISHes each (channel, payload), pipelined, in order.
  virtual void publish(std::vector<std::pair<std::string, std::string>> messages) = 0;
};

} // namespace tickgate
