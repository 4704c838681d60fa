#pragma once

#include <array>
#include <atomic>
#include <cstdint>

#include "proto/error_code.hpp"
#include "proto/wire_format.hpp"

namespace tickgate {

/// Process-wide counters and gauges, written by actors and sessions and read by
/// the HTTP routes and the periodic stats line. Writers on the hot path batch
/// their increments (one add per publication, not per delivery).
struct metrics {
  using counter = std::atomic<uint64_t>;
  using gauge = std::atomic<int64_t>;

  gauge conn_open{0};            // conn.open: WebSocket sessions now open
  counter conn_accepted{0};      // conn.accepted: WebSocket handshakes completed
  counter conn_frames_in{0};     // conn.frames_in: client frames received
  counter conn_frames_too_large{0}; // conn.frames_too_large: closed with 1009
  counter conn_slow_closed{0};   // conn.slow_closed: closed as slow consumers
  counter conn_replies_out{0};   // conn.replies_out: acks, errors, pongs queued
  std::array<counter, error_code_count> conn_errors{}; // conn.errors by code

  gauge topic_live{0};           // topic.live: topic actors alive
  gauge topic_subscriptions{0};  // topic.subscriptions: (topic, client) pairs
  counter topic_events_in{0};    // topic.events_in: publications routed to a topic
  counter topic_events_out{0};   // topic.events_out: event frames queued to clients
  counter topic_bytes_out{0};    // topic.bytes_out: bytes of those frames
  counter topic_unrouted{0};     // topic.unrouted: publications for topics nobody follows

  gauge bridge_link_up{0};          // bridge.link_up: 1 while Redis is connected (0 also when not configured)
  counter bridge_messages_in{0};    // bridge.messages_in: messages read from Redis
  counter bridge_oversize{0};       // bridge.oversize_dropped: payloads over redis.max-payload-bytes
  counter bridge_published{0};      // bridge.published: PUBLISH commands sent
  counter bridge_publish_dropped{0}; // bridge.publish_dropped: publishes lost (Redis down or backlog full)
  counter bridge_reconnects{0};     // bridge.reconnects: Redis connections re-established

  counter http_publish_requests{0}; // http.publish_requests
  counter http_publish_rejected{0}; // http.publish_rejected: 4xx answers

  void count_error(error_code code) {
    conn_errors[static_cast<size_t>(code)].fetch_add(1, std::memory_order_relaxed);
  }
};

/// The node's metrics.
metrics& node_metrics();

} // namespace tickgate
