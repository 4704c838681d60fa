#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "support/node_process.hpp"
#include "support/ws_client.hpp"

namespace tickgate::test {

/// Real nodes n1..nN of one cluster (fast heartbeats); n2.. join through n1.
/// `extra` is added to every node's arguments (e.g. a shared redis.url).
struct cluster {
  std::vector<std::unique_ptr<node_process>> nodes;
  std::vector<std::string> extra;

  explicit cluster(size_t n = 3, std::vector<std::string> extra_args = {});

  std::vector<std::string> args(size_t i) const;
  void start(size_t i);
  uint16_t port(size_t i) const { return nodes[i]->port(); }
  /// Every live node counts `n` members up.
  bool all_see(size_t n) const;
};

/// ["a","b"]
std::string quoted_list(const std::vector<std::string>& topics);

/// Subscribes (native JSON, request id 1) and returns the ack: the first frame back.
std::string subscribe(ws_client& c, const std::vector<std::string>& topics,
                      const std::string& options = "");

/// The epoch the ack gives `topic`.
std::string epoch_in_ack(const std::string& ack, const std::string& topic);

/// The node that numbers a topic without Redis: epochs start with the
/// home's node id ("n2-1", later "n2-1.2").
std::string home_in(const std::string& epoch);

/// POST /api/publish of one event; true if accepted.
bool publish(uint16_t port, const std::string& topic, const std::string& data);

struct seen_event {
  std::string topic;
  uint64_t seq = 0; // 0: a reset
  std::string epoch;
  std::string data;
};

/// Reads events (and resets, as seq 0) until `count` events arrived; other
/// frames are left out.
std::vector<seen_event> read_events(ws_client& c, size_t count,
                                    std::chrono::milliseconds timeout = std::chrono::seconds(10));

} // namespace tickgate::test
