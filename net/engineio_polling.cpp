#include "net/engineio_polling.hpp"

#include <boost/asio/post.hpp>
#include <caf/send.hpp>
#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include "actors/metrics.hpp"
#include "net/io_loop.hpp"
#include "net/maintenance_gate.hpp"
#include "net/ws_session.hpp"
#include "proto/payload.hpp"

namespace tickgate::net {

namespace http = boost::beast::http;

namespace {

// A GET's answer takes at most this much of the queue (more waits for the
// next GET; a single larger frame goes alone).
constexpr size_t max_poll_bytes = 1024 * 1024;
// Packets in one POST: Engine.IO clients keep a POST within maxPayload bytes.
constexpr size_t max_post_packets = 4096;

// The sid is the session's only credential on the polling requests: 15
// random bytes from OpenSSL's generator, in URL-safe base64 (20 characters,
// the shape of Engine.IO's own ids).
std::string new_sid() {
  unsigned char raw[15];
  if (RAND_bytes(raw, sizeof raw) != 1)
    throw std::runtime_error("RAND_bytes failed");
  static constexpr char digits[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  for (size_t i = 0; i < sizeof raw; i += 3) {
    uint32_t v = (uint32_t{raw[i]} << 16) | (uint32_t{raw[i + 1]} << 8) | raw[i + 2];
    for (int shift = 18; shift >= 0; shift -= 6)
      out += digits[(v >> shift) & 0x3F];
  }
  return out;
}

uint8_t socketio_slot() {
  uint8_t i = 0;
  for (; !metrics::dialect_name(i).empty(); ++i)
    if (metrics::dialect_name(i) == "socketio")
      break;
  return i;
}

http_response text_response(const polling_reply& r, int status, std::string body) {
  http_response res{static_cast<http::status>(status), r.version};
  res.set(http::field::server, "tickgate");
  res.set(http::field::content_type,
          body.starts_with('{') ? "application/json" : "text/plain; charset=UTF-8");
  res.set(http::field::cache_control, "no-store");
  if (!r.origin.empty()) {
    res.set(http::field::access_control_allow_origin, r.origin);
    res.set(http::field::access_control_allow_credentials, "true");
  }
  res.keep_alive(r.keep_alive);
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

void count_bad_request() {
  node_metrics().polling_bad_requests.fetch_add(1, std::memory_order_relaxed);
}

} // namespace

http_response engineio_error_response(const http_request& req, engineio::error e) {
  return json_response(req,
                       e == engineio::error::forbidden ? http::status::forbidden
                                                       : http::status::bad_request,
                       engineio::error_body(e));
}

engineio_session::engineio_session(net_context& ctx, std::string sid, std::string peer,
                                   std::unique_ptr<frame_decoder> decoder,
                                   std::shared_ptr<void> ticket)
  : ctx_(ctx),
    sid_(std::move(sid)),
    peer_(std::move(peer)),
    dialect_index_(socketio_slot()),
    ticket_(std::move(ticket)),
    decoder_(std::move(decoder)),
    beat_(ctx.edge.ping_interval, ctx.edge.pong_timeout, clock::now()) {
}

engineio_session::~engineio_session() = default;

std::string engineio_session::open(client_info client) {
  auto& m = node_metrics();
  m.conn_open.fetch_add(1, std::memory_order_relaxed);
  m.conn_accepted.fetch_add(1, std::memory_order_relaxed);
  m.conn_by_dialect[dialect_index_].fetch_add(1, std::memory_order_relaxed);
  m.polling_open.fetch_add(1, std::memory_order_relaxed);
  conn_ = ctx_.system.spawn(connection_actor,
                            std::static_pointer_cast<session_sink>(shared_from_this()),
                            ctx_.router, ctx_.connection_settings(), std::move(client));
  std::string payload;
  std::lock_guard<std::mutex> guard{mtx_};
  for (auto& greeting : decoder_->on_open())
    engineio::append_packet(payload, greeting, false);
  return payload;
}

send_result engineio_session::send(frame f) {
  if (auto* ws = forward_.load(std::memory_order_acquire))
    return ws->send(std::move(f));
  std::unique_lock<std::mutex> lk{mtx_};
  if (state_ == state::upgraded) { // switched after the check above
    auto ws = ws_;
    lk.unlock();
    return ws->send(std::move(f));
  }
  if (state_ == state::closed)
    return send_result::closed;
  auto r = queue_.push(std::move(f), ctx_.edge.outbound());
  if (r.conflated > 0)
    node_metrics().conn_slow_conflated.fetch_add(r.conflated, std::memory_order_relaxed);
  if (r.dropped > 0) {
    node_metrics().conn_slow_dropped.fetch_add(r.dropped, std::memory_order_relaxed);
    caf::anon_send(conn_, dropped_atom_v, static_cast<uint64_t>(r.dropped));
  }
  if (r.result == send_result::queued) {
    if (parked_ && !deliver_posted_)
      schedule_deliver_locked();
    return send_result::queued;
  }
  lk.unlock();
  if (r.result == send_result::closed)
    return send_result::closed;
  // The client stopped polling while events kept coming: Engine.IO has no
  // way to tell it, so the session closes (it reconnects and may resume).
  auto& m = node_metrics();
  m.conn_slow_closed.fetch_add(1, std::memory_order_relaxed);
  m.polling_closed_overflow.fetch_add(1, std::memory_order_relaxed);
  spdlog::info("polling.slow_consumer sid={} queued_frames={} queued_bytes={} closing", sid_,
               r.frames, r.bytes);
  end(end_reason::overflow);
  return send_result::overflow;
}

void engineio_session::close(uint16_t code, std::string_view reason) {
  if (auto* ws = forward_.load(std::memory_order_acquire)) {
    ws->close(code, reason);
    return;
  }
  std::unique_lock<std::mutex> lk{mtx_};
  if (state_ == state::upgraded) {
    auto ws = ws_;
    lk.unlock();
    ws->close(code, reason);
    return;
  }
  if (state_ == state::closed || close_queued_)
    return;
  spdlog::debug("polling.close sid={} code={} reason={}", sid_, code, reason);
  // What is queued still goes out (an error the actor sent just before),
  // then the close packet; a client that does not collect it within the
  // handshake timeout is dropped.
  auto r = queue_.push(make_frame("1", false), outbound_limits{SIZE_MAX, SIZE_MAX,
                                                                slow_policy::disconnect});
  if (r.result != send_result::queued) {
    lk.unlock();
    end(end_reason::server_closed);
    return;
  }
  std::vector<frame> none;
  queue_.close(false, none);
  close_queued_ = true;
  close_deadline_ = clock::now() + ctx_.edge.handshake_timeout;
  if (parked_ && !deliver_posted_)
    schedule_deliver_locked();
}

sink_stats engineio_session::stats() const {
  if (auto* ws = forward_.load(std::memory_order_acquire))
    return ws->stats();
  auto q = queue_.stats();
  return sink_stats{peer_, "socketio", q.queued_frames, q.queued_bytes, q.frames_out,
                    q.bytes_out, last_in_us_.load(std::memory_order_relaxed)};
}

void engineio_session::command_done() {
  auto n = polling_inflight_.load(std::memory_order_relaxed);
  while (n > 0)
    if (polling_inflight_.compare_exchange_weak(n, n - 1, std::memory_order_relaxed))
      return;
  if (auto* ws = forward_.load(std::memory_order_acquire))
    ws->command_done();
}

void engineio_session::push_locked(frame f, std::unique_lock<std::mutex>&) {
  node_metrics().conn_replies_out.fetch_add(1, std::memory_order_relaxed);
  // The session's own packets (pings, the decoder's answers) are small and
  // few: they are not refused for a full queue, the events are.
  auto r = queue_.push(std::move(f), outbound_limits{SIZE_MAX, SIZE_MAX, slow_policy::disconnect});
  if (r.result == send_result::queued && parked_ && !deliver_posted_)
    schedule_deliver_locked();
}

void engineio_session::schedule_deliver_locked() {
  deliver_posted_ = true;
  boost::asio::post(parked_->executor, [self = shared_from_this()] { self->deliver(); });
}

std::string engineio_session::take_payload_locked(bool& closes) {
  closes = false;
  std::vector<frame> batch;
  std::vector<frame> refill;
  size_t bytes = 0;
  auto taken = queue_.take(true, max_poll_bytes, batch, refill, bytes);
  if (batch.empty())
    return {};
  std::string payload;
  payload.reserve(bytes + batch.size() * 2);
  auto now = now_us();
  metrics::latency_tally latencies{node_metrics()};
  for (auto& f : batch) {
    engineio::append_packet(payload, *f.bytes, f.binary);
    if (f.ts_us > 0)
      latencies.add(now - f.ts_us);
  }
  queue_.note_written(batch.size(), bytes);
  closes = close_queued_ && taken == outbound_queue::take_result::all;
  return payload;
}

void engineio_session::respond(const polling_reply& r, int status, std::string body) const {
  boost::asio::post(r.executor, [send = r.send, res = text_response(r, status, std::move(body))]() mutable {
    send(std::move(res));
  });
}

void engineio_session::deliver() {
  std::shared_ptr<polling_reply> reply;
  std::string payload;
  bool closes = false;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    deliver_posted_ = false;
    if (!parked_ || state_ == state::closed)
      return;
    payload = take_payload_locked(closes);
    if (payload.empty())
      return;
    reply = std::move(parked_);
  }
  respond(*reply, 200, std::move(payload));
  if (closes)
    end(end_reason::server_closed);
}

// A GET or POST for a session that has ended (400, unknown sid) or moved to
// the WebSocket (400): answered and counted here, with `lk` released first.
bool engineio_session::refused_as_ended(std::unique_lock<std::mutex>& lk, const polling_reply& r) {
  if (state_ != state::closed && state_ != state::upgraded)
    return false;
  auto e = state_ == state::closed ? engineio::error::unknown_sid : engineio::error::bad_request;
  lk.unlock();
  count_bad_request();
  respond(r, 400, engineio::error_body(e));
  return true;
}

void engineio_session::poll(polling_reply reply) {
  auto r = std::make_shared<polling_reply>(std::move(reply));
  std::string payload;
  bool closes = false;
  {
    std::unique_lock<std::mutex> lk{mtx_};
    if (refused_as_ended(lk, *r))
      return;
    if (parked_) {
      // Engine.IO allows one GET at a time: a second one is a broken or
      // hostile client, and the session ends (the first GET gets "1").
      lk.unlock();
      count_bad_request();
      spdlog::info("polling.overlapping_get sid={} closing", sid_);
      respond(*r, 400, engineio::error_body(engineio::error::bad_request));
      end(end_reason::bad_request);
      return;
    }
    last_in_us_.store(now_us(), std::memory_order_relaxed);
    payload = take_payload_locked(closes);
    if (payload.empty() && state_ == state::probing)
      payload = "6"; // the client is about to pause polling for the upgrade
    if (payload.empty()) {
      parked_ = std::move(r);
      return;
    }
  }
  respond(*r, 200, std::move(payload));
  if (closes)
    end(end_reason::server_closed);
}

void engineio_session::post(const http_request& req, polling_reply reply) {
  auto& body = req.body();
  auto& m = node_metrics();
  if (body.size() > ctx_.edge.max_frame_bytes) { // Engine.IO's maxPayload: the client keeps within it
    count_bad_request();
    respond(reply, 413, engineio::error_body(engineio::error::bad_request));
    end(end_reason::bad_request);
    return;
  }
  auto decoded = engineio::decode_payload(body, max_post_packets);
  if (auto* err = std::get_if<engineio::payload_error>(&decoded)) {
    count_bad_request();
    spdlog::info("polling.bad_payload sid={} reason=\"{}\" closing", sid_, err->message);
    respond(reply, 400, engineio::error_body(engineio::error::bad_request));
    end(end_reason::bad_request);
    return;
  }
  auto& packets = std::get<std::vector<engineio::packet>>(decoded);
  std::vector<decoded_frame> messages;
  bool client_closed = false;
  {
    std::unique_lock<std::mutex> lk{mtx_};
    if (refused_as_ended(lk, reply))
      return;
    m.conn_bytes_in.fetch_add(body.size(), std::memory_order_relaxed);
    last_in_us_.store(now_us(), std::memory_order_relaxed);
    auto now = clock::now();
    for (auto& p : packets) {
      m.conn_frames_in.fetch_add(1, std::memory_order_relaxed);
      auto out = decoder_->decode(p.bytes, p.binary);
      if (out.pong)
        beat_.on_pong(now);
      for (auto& text : out.replies)
        push_locked(make_frame(std::move(text), false), lk);
      for (auto& msg : out.frames)
        messages.push_back(std::move(msg));
      if (out.close) {
        client_closed = true;
        break;
      }
    }
    // Counted before they are sent: the actor counts each down (command_done).
    polling_inflight_.fetch_add(static_cast<uint32_t>(messages.size()),
                                std::memory_order_relaxed);
  }
  for (auto& msg : messages)
    std::visit([this](auto& x) { caf::anon_send(conn_, std::move(x)); }, msg);
  respond(reply, 200, "ok");
  if (client_closed)
    end(end_reason::client_closed);
}

bool engineio_session::probe(const std::shared_ptr<ws_session>& ws) {
  std::shared_ptr<polling_reply> parked;
  std::string payload;
  bool closes = false;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (state_ == state::probing) {
      auto other = probe_.lock();
      if (other && other != ws)
        return false;
    } else if (state_ != state::polling) {
      return false;
    }
    state_ = state::probing;
    probe_ = ws;
    if (parked_) {
      payload = take_payload_locked(closes);
      if (payload.empty())
        payload = "6";
      parked = std::move(parked_);
    }
  }
  if (parked)
    respond(*parked, 200, std::move(payload));
  if (closes) { // the close packet went out over polling: no upgrade
    end(end_reason::server_closed);
    return false;
  }
  return true;
}

std::unique_ptr<frame_decoder> engineio_session::upgrade(const std::shared_ptr<ws_session>& ws) {
  std::shared_ptr<polling_reply> parked;
  std::unique_ptr<frame_decoder> decoder;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (state_ != state::probing || probe_.lock() != ws)
      return nullptr;
    state_ = state::upgraded;
    ws_ = ws;
    probe_.reset();
    // What the polling transport had not delivered goes first, in order;
    // sends that wait for mtx_ meanwhile find the state upgraded and follow.
    std::vector<frame> rest;
    queue_.close(true, rest);
    for (auto& f : rest)
      ws->send(std::move(f));
    forward_.store(ws.get(), std::memory_order_release);
    decoder = std::move(decoder_);
    parked = std::move(parked_);
  }
  if (parked)
    respond(*parked, 200, "6");
  auto& m = node_metrics();
  m.polling_open.fetch_sub(1, std::memory_order_relaxed);
  m.polling_upgrades.fetch_add(1, std::memory_order_relaxed);
  spdlog::debug("polling.upgraded sid={}", sid_);
  return decoder;
}

void engineio_session::transport_closed(const ws_session* ws) {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (state_ == state::probing) {
      auto p = probe_.lock();
      if (!p || p.get() == ws) { // the probe failed: polling goes on
        probe_.reset();
        state_ = state::polling;
      }
      return;
    }
    if (state_ != state::upgraded || ws_.get() != ws)
      return;
  }
  end(end_reason::transport_closed);
}

void engineio_session::tick(clock::time_point now) {
  std::unique_lock<std::mutex> lk{mtx_};
  if (state_ == state::upgraded || state_ == state::closed)
    return;
  bool expired = close_queued_ && now >= close_deadline_;
  auto due = expired ? polling_heartbeat::due::timeout : beat_.tick(now);
  if (due == polling_heartbeat::due::ping && !close_queued_) {
    push_locked(make_frame("2", false), lk);
    return;
  }
  if (due != polling_heartbeat::due::timeout)
    return;
  lk.unlock();
  node_metrics().polling_closed_timeout.fetch_add(1, std::memory_order_relaxed);
  spdlog::info("polling.timeout sid={} peer={} closing", sid_, peer_);
  end(end_reason::timeout);
}

void engineio_session::end(end_reason why) {
  std::shared_ptr<polling_reply> parked;
  std::shared_ptr<ws_session> probe;
  state was;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (state_ == state::closed)
      return;
    was = state_;
    state_ = state::closed;
    parked = std::move(parked_);
    probe = probe_.lock();
    probe_.reset();
  }
  std::vector<frame> dropped;
  queue_.close(true, dropped);
  dropped.clear();
  if (parked)
    respond(*parked, 200, "1");
  if (probe)
    probe->close(1000, "session closed");
  if (ctx_.polling)
    ctx_.polling->forget(sid_);
  spdlog::debug("polling.end sid={} reason={}", sid_, static_cast<int>(why));
  caf::anon_send(conn_, closed_atom_v);
  auto& m = node_metrics();
  m.conn_open.fetch_sub(1, std::memory_order_relaxed);
  m.conn_by_dialect[dialect_index_].fetch_sub(1, std::memory_order_relaxed);
  if (was != state::upgraded)
    m.polling_open.fetch_sub(1, std::memory_order_relaxed);
  ticket_.reset();
}

engineio_registry::engineio_registry(net_context& ctx, boost::asio::io_context& timers)
  : ctx_(ctx) {
  sweep_timer_.emplace(timers);
}

void engineio_registry::serve(const http_request& req, const std::string& peer,
                              polling_reply reply) {
  auto target = req.target();
  if (query_param(target, "EIO") != "4") { // the answer Socket.IO requests of other versions always got
    count_bad_request();
    reply.send(socketio_error_response(req, socketio_handshake_problem(target).value_or("")));
    return;
  }
  auto transport = query_param(target, "transport");
  if (transport == "websocket") {
    count_bad_request();
    reply.send(socketio_error_response(req, "WebSocket transport required: send a WebSocket upgrade"));
    return;
  }
  if (transport != "polling") {
    count_bad_request();
    reply.send(engineio_error_response(req, engineio::error::unknown_transport));
    return;
  }
  auto sid = query_param(target, "sid");
  if (sid.empty()) {
    handshake(req, peer, std::move(reply));
    return;
  }
  auto session = find(sid);
  if (!session) {
    count_bad_request();
    reply.send(engineio_error_response(req, engineio::error::unknown_sid));
    return;
  }
  if (req.method() == http::verb::get)
    session->poll(std::move(reply));
  else if (req.method() == http::verb::post)
    session->post(req, std::move(reply));
  else {
    count_bad_request();
    reply.send(engineio_error_response(req, engineio::error::bad_request));
  }
}

void engineio_registry::handshake(const http_request& req, const std::string& peer,
                                  polling_reply reply) {
  if (req.method() != http::verb::get) {
    count_bad_request();
    reply.send(engineio_error_response(req, engineio::error::bad_handshake_method));
    return;
  }
  if (auto refusal = maintenance_refusal(ctx_, req)) {
    spdlog::debug("polling.handshake_refused peer={} status=503 reason=maintenance", peer);
    reply.send(std::move(*refusal));
    return;
  }
  std::shared_ptr<void> ticket;
  if (ctx_.gate) {
    auto d = ctx_.gate->admit(peer, req[http::field::origin]);
    if (d.reason != refusal::none) {
      spdlog::debug("polling.handshake_refused peer={} status={} reason={}", peer, d.status,
                    d.message);
      auto res = error_response(req, static_cast<http::status>(d.status), d.message);
      if (d.status == 429 || d.status == 503)
        res.set(http::field::retry_after, "1");
      reply.send(std::move(res));
      return;
    }
    ticket = std::move(d.ticket);
  }
  auto sid = new_sid();
  decoder_options options;
  options.session_id = sid;
  options.upgradable = true;
  using std::chrono::duration_cast;
  using std::chrono::milliseconds;
  options.ping_interval_ms = duration_cast<milliseconds>(ctx_.edge.ping_interval).count();
  options.ping_timeout_ms = duration_cast<milliseconds>(ctx_.edge.pong_timeout).count();
  options.max_payload = ctx_.edge.max_frame_bytes;
  auto session = std::make_shared<engineio_session>(
    ctx_, sid, peer, make_frame_decoder("socketio", std::move(options)), std::move(ticket));
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (closed_) {
      reply.send(error_response(req, http::status::service_unavailable, "server shutting down"));
      return;
    }
    sessions_.emplace(sid, session);
    arm_sweep_locked();
  }
  client_info client;
  client.dialect = "socketio";
  client.origin = std::string{req[http::field::origin]};
  client.token = bearer_token(req);
  auto open = session->open(std::move(client));
  reply.send(text_response(reply, 200, std::move(open)));
}

std::shared_ptr<engineio_session> engineio_registry::find(std::string_view sid) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = sessions_.find(std::string{sid});
  return i == sessions_.end() ? nullptr : i->second;
}

void engineio_registry::forget(const std::string& sid) {
  std::lock_guard<std::mutex> guard{mtx_};
  sessions_.erase(sid);
}

void engineio_registry::arm_sweep_locked() {
  if (sweeping_ || !sweep_timer_)
    return;
  sweeping_ = true;
  sweep_timer_->expires_after(io_loop::tick_interval);
  sweep_timer_->async_wait([this](boost::system::error_code ec) {
    if (!ec)
      sweep();
  });
}

void engineio_registry::sweep() {
  std::vector<std::shared_ptr<engineio_session>> all;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    sweeping_ = false;
    all.reserve(sessions_.size());
    for (auto& [sid, s] : sessions_)
      all.push_back(s);
  }
  auto now = engineio_session::clock::now();
  for (auto& s : all)
    s->tick(now);
  std::lock_guard<std::mutex> guard{mtx_};
  if (!sessions_.empty())
    arm_sweep_locked();
}

void engineio_registry::close_all() {
  std::vector<std::shared_ptr<engineio_session>> all;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    closed_ = true;
    for (auto& [sid, s] : sessions_)
      all.push_back(s);
  }
  for (auto& s : all)
    s->end(engineio_session::end_reason::shutdown);
}

void engineio_registry::stop() {
  std::lock_guard<std::mutex> guard{mtx_};
  sweep_timer_.reset();
}

} // namespace tickgate::net
