#pragma once

#include <array>
#include <atomic>
#include <cstdint>

#include "actors/auth.hpp"
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
  counter conn_protocol_errors{0};  // conn.protocol_errors: broken WebSocket framing (1002, 1007)
  counter conn_slow_closed{0};   // conn.slow_closed: closed as slow consumers
  counter conn_slow_dropped{0};  // conn.slow_dropped: events dropped by the drop-oldest policy
  counter conn_paced_writes{0};  // socket writes held back by write pacing (ws.pace-above)
  counter conn_read_pauses{0};   // conn.read_pauses: sessions stopped reading while their actor was behind (ws.inbound-queue)
  counter conn_batched_writes{0}; // socket writes sent with others in one system call (ws.send-batch)
  counter conn_replies_out{0};   // conn.replies_out: acks, errors, pongs queued
  std::array<counter, error_code_count> conn_errors{}; // conn.errors by code
  counter conn_failures{0};      // conn.failures: connection actors that failed (closed 1011)
  counter conn_bytes_in{0};      // conn.bytes_in: client frame bytes received
  counter conn_kicked{0};        // conn.kicked: closed by an operator
  std::array<gauge, 6> conn_by_dialect{}; // conn.open per endpoint dialect (native, action, stream, typed, socketio, auto)
  counter conn_rate_limited{0};  // conn.rate_limited: client messages dropped by the inbound rate limit
  counter conn_rate_closed{0};   // conn.rate_closed: closed 1008 for sustained flooding
  counter conn_idle_closed{0};   // conn.idle_closed: closed for never subscribing within the idle timeout
  // Handshakes refused by net/admission, by reason (admission.hpp: refusal).
  counter refused_origin{0};     // conn.refused_origin: Origin not allowed (403)
  counter refused_full{0};       // conn.refused_full: global connection cap (503)
  counter refused_ip_cap{0};     // conn.refused_ip_cap: per-IP connection cap (429)
  counter refused_ip_rate{0};    // conn.refused_ip_rate: per-IP handshake rate (429)
  counter refused_malformed{0};  // conn.refused_malformed: invalid opening handshake (400, 426)

  gauge topic_live{0};           // topic.live: topic actors alive
  gauge topic_subscriptions{0};  // topic.subscriptions: (topic, client) pairs
  counter topic_events_in{0};    // topic.events_in: publications routed to a topic
  counter topic_events_out{0};   // topic.events_out: event frames queued to clients
  counter topic_bytes_out{0};    // topic.bytes_out: bytes of those frames
  counter topic_unrouted{0};     // topic.unrouted: publications for topics nobody follows
  counter topic_restarts{0};     // topic.restarts: topic actors restarted after a failure
  gauge largest_mailbox{0};      // node.largest_mailbox: sampled from routing actors every few seconds

  // Publish-to-write latency of event frames: acceptance by the node until the
  // socket write completed. Bucket upper bounds in microseconds.
  static constexpr std::array<int64_t, 13> latency_bounds_us{
    500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000, 5000000};
  std::array<counter, latency_bounds_us.size() + 1> latency_buckets{}; // last: +Inf
  counter latency_sum_us{0};
  counter latency_count{0};

  static size_t latency_bucket_of(int64_t us) {
    size_t i = 0;
    while (i < latency_bounds_us.size() && us > latency_bounds_us[i])
      ++i;
    return i;
  }

  /// The latencies of one socket write, added to the histogram when it goes
  /// out of scope: one atomic add per bucket touched, not three per frame.
  class latency_tally {
  public:
    explicit latency_tally(metrics& m) : m_(m) {}
    latency_tally(const latency_tally&) = delete;
    latency_tally& operator=(const latency_tally&) = delete;
    ~latency_tally() {
      if (count_ == 0)
        return;
      for (size_t i = 0; i < counts_.size(); ++i)
        if (counts_[i] > 0)
          m_.latency_buckets[i].fetch_add(counts_[i], std::memory_order_relaxed);
      m_.latency_sum_us.fetch_add(sum_, std::memory_order_relaxed);
      m_.latency_count.fetch_add(count_, std::memory_order_relaxed);
    }
    void add(int64_t us) {
      ++counts_[latency_bucket_of(us)];
      sum_ += static_cast<uint64_t>(us > 0 ? us : 0);
      ++count_;
    }

  private:
    metrics& m_;
    std::array<uint64_t, latency_bounds_us.size() + 1> counts_{};
    uint64_t sum_ = 0;
    uint64_t count_ = 0;
  };

  gauge bridge_link_up{0};          // bridge.link_up: 1 while Redis is connected (0 also when not configured)
  counter bridge_messages_in{0};    // bridge.messages_in: messages read from Redis
  counter bridge_oversize{0};       // bridge.oversize_dropped: payloads over redis.max-payload-bytes
  counter bridge_published{0};      // bridge.published: PUBLISH commands sent
  counter bridge_publish_dropped{0}; // bridge.publish_dropped: publishes lost (Redis down or backlog full)
  counter bridge_reconnects{0};     // bridge.reconnects: Redis connections re-established

  counter auth_accepted{0};         // auth.accepted: tokens verified (handshake, auth frame, Socket.IO CONNECT)
  std::array<counter, auth_failure_count> auth_failures{}; // auth.failures by reason
  counter auth_denied{0};           // auth.denied: private topics or admin namespaces refused
  counter auth_expired{0};          // auth.expired: connections whose token ran out unrefreshed
  counter auth_revoked{0};          // auth.revoked: private subscriptions closed by expiry or a new identity

  void count_auth_failure(auth_failure f) {
    auth_failures[static_cast<size_t>(f)].fetch_add(1, std::memory_order_relaxed);
  }

  counter http_publish_requests{0}; // http.publish_requests
  counter http_publish_rejected{0}; // http.publish_rejected: 4xx answers

  void count_error(error_code code) {
    conn_errors[static_cast<size_t>(code)].fetch_add(1, std::memory_order_relaxed);
  }
};

/// The node's metrics.
metrics& node_metrics();

} // namespace tickgate
