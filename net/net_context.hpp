#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_set>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include "actors/maintenance.hpp"
#include "actors/settings.hpp"
#include "net/admission.hpp"
#include "net/outbound_queue.hpp"

namespace tickgate::net {

/// What the edge may do to a client (configs/tickgate.ini documents each).
struct edge_settings {
  std::string host = "0.0.0.0";
  uint16_t port = 8080;
  // path -> dialect ("native", "action", "stream", "typed", "socketio", or
  // "auto": detect from the first frame).
  std::vector<std::pair<std::string, std::string>> endpoints{
    {"/v1", "native"}, {"/", "auto"}, {"/ws", "typed"}, {"/stream", "stream"},
    {"/socket.io/", "socketio"}};

  /// The dialect served at `path`, or nullptr.
  const std::string* dialect_at(std::string_view path) const {
    for (auto& [p, d] : endpoints)
      if (p == path)
        return &d;
    return nullptr;
  }
  size_t max_frame_bytes = 64 * 1024;          // larger client frames close with 1009
  size_t max_http_body_bytes = 1024 * 1024;    // larger publish bodies get 413
  std::chrono::seconds ping_interval{30};      // WebSocket ping after this much silence
  std::chrono::seconds pong_timeout{10};       // close if no pong within this
  std::chrono::seconds handshake_timeout{10};  // HTTP request / WebSocket handshake / close handshake
  size_t outbound_max_messages = 8192;         // per-client queue bound (frames)
  size_t outbound_max_bytes = 16 * 1024 * 1024; // per-client queue bound (bytes)
  // What passing an outbound bound does: close the client with 1008 "slow
  // consumer", drop its oldest queued events (replies are kept) and tell it
  // how many were lost, or conflate: keep only the newest queued event of
  // each topic (net/outbound_queue.hpp).
  using slow_policy = net::slow_policy;
  slow_policy slow_consumer_policy = slow_policy::disconnect;
  outbound_limits outbound() const {
    return {outbound_max_messages, outbound_max_bytes, slow_consumer_policy};
  }
  // Inbound backpressure: a session stops reading its client while its
  // connection actor has this many decoded messages not yet processed, and
  // reads on once the actor is down to half. 0: never paused.
  size_t inbound_queue = 64;
  int io_threads = 1;
  // Actor jobs an I/O thread runs itself after each pass over its ready
  // handlers, instead of handing them to CAF's workers (actors/scheduler.hpp:
  // hold_worker_wakes). 0: workers run every actor.
  size_t io_actor_jobs = 64;
  // Write pacing. A client sent more than pace_above frames per second
  // (a token bucket, with a burst of a fifth of a second's worth) is written
  // once per pace_interval, every frame queued meanwhile in one send, and the
  // sends of all paced clients of a loop go out together. A socket send is
  // most of the CPU of a delivery, and a burst of sends wakes each reader
  // once for many; clients below the rate are written at once.
  // pace_above 0: never paced.
  double pace_above = 100;
  std::chrono::microseconds pace_interval{4'000};
  // The writes of one flush pass go to the kernel in one system call
  // (io_uring, net/send_batch.hpp), at most send_batch of them, instead of
  // one send each; 0 or 1, or a kernel that refuses io_uring: one send each.
  unsigned send_batch = 256;
  admission_settings admission; // origins, connection caps, handshake rate
};

/// Who this node is, for /health and the banner.
struct node_info {
  std::string node_id;
  std::string version;
  std::string mode; // "embedded" (in-process bus) or "redis"
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
};

class ws_session;
class engineio_registry;

/// Everything the edge shares between sessions: the actor system and the
/// actors it talks to, settings, and the set of open WebSocket sessions
/// (for graceful shutdown).
struct net_context {
  explicit net_context(caf::actor_system& sys) : system(sys) {
  }

  caf::actor_system& system;
  caf::actor router; // subscribes go here
  caf::actor bus;    // publishes go here
  caf::actor inspector; // /admin/... requests go here
  caf::actor cluster;   // the node actor: membership (/api/cluster)
  std::string cluster_name; // empty: no cluster (/health says nothing of one)
  // Serve /admin/ on the public port: only when admin.secret or a JWT key is
  // configured (http_session checks the caller's credentials).
  bool admin_http = false;
  std::string admin_secret; // admin.secret ("" when none)
  routing_settings routing;

  /// `routing` as every connection actor shares it (made on first use, once
  /// the node has filled in `routing`).
  std::shared_ptr<const routing_settings> connection_settings() {
    std::call_once(routing_once_, [this] {
      routing_ptr_ = std::make_shared<const routing_settings>(routing);
    });
    return routing_ptr_;
  }
  edge_settings edge;
  node_info node;
  std::shared_ptr<admission> gate; // WebSocket handshakes ask it first (null: admit all)
  // Socket.IO sessions on Engine.IO long-polling (net/engineio_polling.hpp);
  // set by the server before it accepts, then only read.
  std::shared_ptr<engineio_registry> polling;
  // Maintenance mode (null: never): handshakes ask maintenance_refusal() first.
  std::shared_ptr<const maintenance_mode> maintenance;

  std::once_flag routing_once_;
  std::shared_ptr<const routing_settings> routing_ptr_;

  std::mutex sessions_mtx;
  std::unordered_set<ws_session*> sessions; // guarded by sessions_mtx
  bool shutting_down = false;               // guarded by sessions_mtx
};

} // namespace tickgate::net
