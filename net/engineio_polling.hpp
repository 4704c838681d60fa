#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "actors/connection_actor.hpp"
#include "actors/session_sink.hpp"
#include "net/http_routes.hpp"
#include "net/net_context.hpp"
#include "net/outbound_queue.hpp"
#include "net/polling_heartbeat.hpp"
#include "proto/engineio_payload.hpp"
#include "proto/frame_decoder.hpp"

namespace tickgate::net {

class ws_session;

/// Where the answer to a long-polling request goes: the loop of the
/// http_session that holds the request and the function that writes a
/// response there (called once, on that loop).
struct polling_reply {
  boost::asio::io_context::executor_type executor;
  std::function<void(http_response)> send;
  unsigned version = 11;
  bool keep_alive = true;
  std::string origin; // echoed in Access-Control-Allow-Origin (browsers on another origin)
};

/// One Socket.IO client whose Engine.IO session began with HTTP long-polling
/// (the default of socket.io-client). It is the client's session_sink for
/// the whole connection: the connection actor and its topics write to it
/// whichever transport carries the packets, so nothing of the routing core
/// changes when the client upgrades.
///
///   polling ──"2probe" on a WebSocket with this sid──► probing ──"5"──► upgraded
///      ▲                                                  │
///      └──────── the probing WebSocket ends ──────────────┘
///   polling, probing ──close packet, ping timeout, buffer overflow, second
///                      concurrent GET, bad payload, server close──► closed
///   upgraded ──the WebSocket ends──► closed
///
/// - polling: frames queue in an outbound_queue with the node's slow-consumer
///   limits and policy; a GET takes everything queued (joined with the record
///   separator) or, when nothing is, waits for the next frame; at most one
///   GET waits at a time. A POST's packets go through the Socket.IO frame
///   decoder to the connection actor, answered "ok". Pings follow
///   polling_heartbeat.
/// - probing: a WebSocket answered the client's "2probe"; a waiting GET is
///   answered with a noop ("6") so the client can pause polling.
/// - upgraded (after the client's "5" on that WebSocket): the frames still
///   queued are handed to the ws_session in order, then every send goes to
///   it directly, with the frame decoder; a waiting GET gets a noop. From
///   here the ws_session runs the connection (pings, close, slow consumer).
/// - closed: a waiting GET is answered with a close packet ("1"), the
///   connection actor is told (closed_atom), the sid is forgotten.
///
/// Threads: GETs and POSTs come from the loops of their http_sessions, the
/// upgrade from the ws_session's loop, ticks from the registry's, sends from
/// actors; everything but the post-upgrade send path holds mtx_.
class engineio_session : public session_sink,
                         public std::enable_shared_from_this<engineio_session> {
public:
  using clock = std::chrono::steady_clock;

  engineio_session(net_context& ctx, std::string sid, std::string peer,
                   std::unique_ptr<frame_decoder> decoder, std::shared_ptr<void> ticket);
  ~engineio_session() override;

  /// Spawns the connection actor; returns the handshake's answer (the open packet).
  std::string open(client_info client);

  send_result send(frame f) override;
  void close(uint16_t code, std::string_view reason) override;
  sink_stats stats() const override;
  void command_done() override;

  /// GET with this sid: answered at once when packets are queued, else when
  /// the next one is.
  void poll(polling_reply reply);
  /// POST with this sid: the client's packets.
  void post(const http_request& req, polling_reply reply);

  /// The probing WebSocket's loop: the client sent "2probe". False: refused
  /// (the session is not polling, or another WebSocket probes).
  bool probe(const std::shared_ptr<ws_session>& ws);
  /// The client sent "5" on `ws`: the session switches to it. Returns the
  /// frame decoder `ws` continues with; null: refused.
  std::unique_ptr<frame_decoder> upgrade(const std::shared_ptr<ws_session>& ws);
  /// `ws` (probing or upgraded) has ended.
  void transport_closed(const ws_session* ws);

  connection_actor_type actor() const { return conn_; }
  /// The registry's sweep: pings, ping timeout, a close that is not collected.
  void tick(clock::time_point now);

  enum class end_reason : uint8_t {
    client_closed, server_closed, timeout, overflow, bad_request, transport_closed, shutdown
  };
  /// Closes the session (any thread; once).
  void end(end_reason why);

private:
  enum class state : uint8_t { polling, probing, upgraded, closed };
  void push_locked(frame f, std::unique_lock<std::mutex>& lk); // a frame of the session's own
  void schedule_deliver_locked();
  void deliver(); // the waiting GET's loop: answers it if frames are queued
  /// Takes queued frames as a payload ("" if none); `closes`: it ends with
  /// the close packet queued by close(), so the session ends once it is sent.
  std::string take_payload_locked(bool& closes);
  void respond(const polling_reply& r, int status, std::string body) const;
  bool refused_as_ended(std::unique_lock<std::mutex>& lk, const polling_reply& r);

  net_context& ctx_;
  const std::string sid_;
  const std::string peer_;
  uint8_t dialect_index_ = 0;
  connection_actor_type conn_;
  std::shared_ptr<void> ticket_; // the admission slot, released at the end

  // After the upgrade: the WebSocket every send goes to (set once, under
  // mtx_, after the queued frames were handed to it; ws_ keeps it alive).
  std::atomic<ws_session*> forward_{nullptr};
  // Decoded client messages the POSTs handed to the actor that it has not
  // processed yet: its command_done() calls count these down first (the
  // actor's mailbox is in order, and the upgrade comes after the last POST).
  std::atomic<uint32_t> polling_inflight_{0};
  std::atomic<int64_t> last_in_us_{0};
  outbound_queue queue_;

  mutable std::mutex mtx_;
  // Guarded by mtx_:
  state state_ = state::polling;
  std::unique_ptr<frame_decoder> decoder_;  // moves to the ws_session at the upgrade
  std::shared_ptr<polling_reply> parked_;   // the GET waiting for frames
  bool deliver_posted_ = false;             // deliver() is posted to parked_'s loop
  bool close_queued_ = false;               // close(): "1" is the last queued frame
  clock::time_point close_deadline_{};      // ... and must be collected by then
  polling_heartbeat beat_;
  std::weak_ptr<ws_session> probe_;          // probing
  std::shared_ptr<ws_session> ws_;           // upgraded
};

/// Every Engine.IO long-polling session of the node, by sid, and the
/// requests that reach them: plain HTTP requests on the Socket.IO path
/// (GET/POST, transport=polling) and WebSocket upgrades naming a sid. Ticks
/// its sessions every io_loop::tick_interval while it has any.
class engineio_registry {
public:
  /// `timers`: the loop whose thread runs the sweep (it must outlive stop()).
  engineio_registry(net_context& ctx, boost::asio::io_context& timers);

  /// A request on the Socket.IO path that is not a WebSocket upgrade.
  void serve(const http_request& req, const std::string& peer, polling_reply reply);

  /// The session a WebSocket upgrade with `sid` continues, or null.
  std::shared_ptr<engineio_session> find(std::string_view sid);

  void forget(const std::string& sid);

  /// Server shutdown: ends every session and refuses new ones.
  void close_all();
  /// After the loops stopped: drops the sweep timer.
  void stop();

private:
  /// The one place new sessions are made (GET without sid): the admission
  /// gate, then the sid, the connection actor, the open packet.
  void handshake(const http_request& req, const std::string& peer, polling_reply reply);
  void arm_sweep_locked();
  void sweep();

  net_context& ctx_;
  std::mutex mtx_;
  std::unordered_map<std::string, std::shared_ptr<engineio_session>> sessions_;
  std::optional<boost::asio::steady_timer> sweep_timer_;
  bool sweeping_ = false;
  bool closed_ = false;
};

/// 400 (403 for forbidden) with Engine.IO's {"code":N,"message":"..."}.
http_response engineio_error_response(const http_request& req, engineio::error e);

} // namespace tickgate::net
