#pragma once

#include <chrono>
#include <cstddef>
#include <string>

namespace tickgate {

/// Limits and timings the routing core applies (configs/tickgate.ini documents
/// each one).
struct routing_settings {
  size_t max_subscriptions = 100;             // per connection
  std::chrono::milliseconds topic_idle_grace{5000}; // stop a topic this long after its last subscriber left
  std::string node_id = "node";               // prefix of every topic epoch
};

} // namespace tickgate
