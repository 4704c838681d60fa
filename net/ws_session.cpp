#include "net/ws_session.hpp"

#include <cerrno>
#include <random>

#include <sys/socket.h>

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <caf/send.hpp>
#include <spdlog/spdlog.h>

#include "actors/connection_actor.hpp"
#include "actors/metrics.hpp"
#include "net/socket_io.hpp"
#include "proto/native_codec.hpp"
#include "proto/payload.hpp"

namespace tickgate::net {

namespace beast = boost::beast;
namespace http = beast::http;

namespace {

// Picks the first subprotocol the client offers that we speak.
std::optional<wire_format> pick_subprotocol(std::string_view offered,
                                            std::string& chosen) {
  while (!offered.empty()) {
    auto comma = offered.find(',');
    auto item = offered.substr(0, comma);
    while (!item.empty() && item.front() == ' ')
      item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ')
      item.remove_suffix(1);
    if (item == "tickgate.v1.json" || item == "tickgate.v1.proto") {
      chosen = std::string{item};
      return item == "tickgate.v1.json" ? wire_format::json
                                        : wire_format::proto;
    }
    if (comma == std::string_view::npos)
      break;
    offered.remove_prefix(comma + 1);
  }
  return std::nullopt;
}

std::string random_id() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char digits[] = "0123456789abcdef";
  std::string out(16, '0');
  auto v = rng();
  for (auto& c : out) {
    c = digits[v & 0xF];
    v >>= 4;
  }
  return out;
}

bool is_expected_end(const beast::error_code& ec) {
  return ec == boost::asio::error::eof
         || ec == boost::asio::error::operation_aborted
         || ec == boost::asio::error::connection_reset
         || ec == beast::error::timeout;
}

} // namespace

ws_session::ws_session(loop_socket&& socket,
                       net_context& ctx, io_loop& loop, const std::string& dialect)
  : sock_(std::move(socket)),
    ctx_(ctx),
    loop_(loop),
    dialect_(dialect),
    reader_(ctx.edge.max_frame_bytes) {
}

ws_session::~ws_session() = default;

static uint8_t dialect_slot(const std::string& d) {
  static const char* names[] = {"native", "action", "stream", "typed", "socketio", "auto"};
  for (uint8_t i = 0; i < 6; ++i)
    if (d == names[i])
      return i;
  return 5;
}

void ws_session::run(http_request req, const boost::asio::ip::tcp::endpoint& peer,
                     std::string early) {
  peer_ = peer.address().to_string() + ":" + std::to_string(peer.port());
  dialect_index_ = dialect_slot(dialect_);
  handshake_ = std::make_unique<handshake>();
  handshake_->early = std::move(early);
  auto& client = handshake_->client;
  client.dialect = dialect_;
  client.origin = std::string{req[http::field::origin]};
  client.token = bearer_token(req);
  decoder_options options;
  if (dialect_ == "socketio" || dialect_ == "typed") // Engine.IO sid, typed clientId
    options.session_id = random_id();
  std::string subprotocol;
  if (dialect_ == "native" || dialect_ == "auto")
    options.forced = pick_subprotocol(req[http::field::sec_websocket_protocol],
                                      subprotocol);
  options.ping_interval_ms
    = std::chrono::duration_cast<std::chrono::milliseconds>(ctx_.edge.ping_interval).count();
  options.ping_timeout_ms
    = std::chrono::duration_cast<std::chrono::milliseconds>(ctx_.edge.pong_timeout).count();
  options.max_payload = ctx_.edge.max_frame_bytes;
  decoder_ = make_frame_decoder(dialect_, std::move(options));
  // The 101 (RFC 6455 section 4.2.2), written at once: a fresh socket takes it.
  std::string answer = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                       "Connection: Upgrade\r\nSec-WebSocket-Accept: ";
  answer += websocket_accept_key(req[http::field::sec_websocket_key]);
  if (!subprotocol.empty()) {
    answer += "\r\nSec-WebSocket-Protocol: ";
    answer += subprotocol;
  }
  answer += "\r\nServer: tickgate\r\n\r\n";
  beast::error_code ec;
  auto written = send_what_fits(sock_, answer, ec);
  if (ec) {
    on_accept(ec);
    return;
  }
  if (written == answer.size()) {
    on_accept({});
    return;
  }
  // The socket took only part of it: the rest goes out asynchronously, and a
  // client that does not read it is dropped after handshake_timeout.
  loop_.add(this);
  ticking_ = true;
  deadline_kind_ = deadline_kind::close;
  deadline_ = std::chrono::steady_clock::now() + ctx_.edge.handshake_timeout;
  auto& sp = spill();
  sp.pending_out.assign(answer, written, std::string::npos);
  boost::asio::async_write(sock_, boost::asio::buffer(sp.pending_out),
                           [self = shared_from_this()](beast::error_code ec, size_t) {
                             std::string{}.swap(self->spill_->pending_out);
                             self->trim_spill();
                             self->on_accept(ec);
                           });
}

void ws_session::on_accept(beast::error_code ec) {
  if (finished_)
    return; // dropped at the handshake deadline
  if (ec) {
    spdlog::debug("conn.handshake_failed error={}", ec.message());
    handshake_.reset();
    finish(ec);
    return;
  }
  auto client = std::move(handshake_->client);
  auto early = std::move(handshake_->early);
  handshake_.reset();
  bool shutting_down;
  {
    std::lock_guard<std::mutex> guard{ctx_.sessions_mtx};
    shutting_down = ctx_.shutting_down;
    ctx_.sessions.insert(this);
    registered_ = true;
  }
  auto& m = node_metrics();
  m.conn_open.fetch_add(1, std::memory_order_relaxed);
  m.conn_accepted.fetch_add(1, std::memory_order_relaxed);
  m.conn_by_dialect[dialect_index_].fetch_add(1, std::memory_order_relaxed);
  conn_ = ctx_.system.spawn(connection_actor,
                            std::static_pointer_cast<session_sink>(shared_from_this()),
                            ctx_.router, ctx_.connection_settings(), std::move(client));
  for (auto& greeting : decoder_->on_open())
    send_text(std::move(greeting));
  if (!ticking_) {
    loop_.add(this);
    ticking_ = true;
  }
  deadline_kind_ = deadline_kind::ping;
  deadline_ = std::chrono::steady_clock::now() + ctx_.edge.ping_interval;
  if (!early.empty()) {
    consume(early.data(), early.size());
    if (finished_)
      return;
  }
  wait_readable();
  if (shutting_down)
    start_close(1001, "server shutting down", close_kind::graceful, true);
}


void ws_session::wait_readable() {
  sock_.async_wait(loop_socket::wait_read,
                   [self = shared_from_this()](beast::error_code ec) {
                     self->on_readable(ec);
                   });
}

void ws_session::on_readable(beast::error_code ec) {
  if (finished_)
    return;
  if (ec) {
    finish(ec);
    return;
  }
  // One buffer per I/O thread: an idle connection holds no read buffer.
  static constexpr size_t scratch_size = 64 * 1024;
  thread_local std::unique_ptr<char[]> scratch{new char[scratch_size]};
  // A few reads per wakeup, so one busy client cannot hold the loop.
  for (int round = 0; round < 4; ++round) {
    beast::error_code rec;
    auto n = receive_now(sock_, scratch.get(), scratch_size, rec);
    if (would_block(rec))
      break;
    if (rec) {
      finish(rec);
      return;
    }
    if (!discarding_)
      consume(scratch.get(), n);
    if (finished_)
      return;
    if (n < scratch_size)
      break;
  }
  wait_readable();
}

void ws_session::consume(char* data, size_t size) {
  node_metrics().conn_bytes_in.fetch_add(size, std::memory_order_relaxed);
  char* p = data;
  size_t len = size;
  bool carried = spill_ && !spill_->pending_in.empty();
  if (carried) {
    auto& in = spill_->pending_in;
    in.append(data, size);
    p = in.data();
    len = in.size();
  }
  size_t off = 0;
  while (off < len && !discarding_ && !finished_) {
    ws_event ev;
    auto used = reader_.next(p + off, len - off, ev);
    if (used == 0) {
      if (reader_.failed()) {
        auto code = reader_.error_code();
        if (code == 1009) {
          node_metrics().conn_frames_too_large.fetch_add(1, std::memory_order_relaxed);
          spdlog::info("conn.frame_too_large limit={} closing 1009",
                       ctx_.edge.max_frame_bytes);
        } else {
          node_metrics().conn_protocol_errors.fetch_add(1, std::memory_order_relaxed);
          spdlog::info("conn.protocol_error reason=\"{}\" closing {}",
                       reader_.error_reason(), code);
        }
        start_close(code, reader_.error_reason(), close_kind::failure, false);
      }
      break;
    }
    off += used;
    on_event(ev);
  }
  if (discarding_ || finished_) {
    if (spill_)
      std::string{}.swap(spill_->pending_in);
    trim_spill();
    return;
  }
  // Keep the incomplete frame at the end for the next read.
  if (!carried) {
    if (off < len)
      spill().pending_in.assign(p + off, len - off);
  } else if (off == len) {
    std::string{}.swap(spill_->pending_in);
  } else {
    spill_->pending_in.erase(0, off);
  }
  trim_spill();
  reader_.trim();
}

void ws_session::on_event(const ws_event& ev) {
  switch (ev.what) {
    case ws_event::kind::none:
      return;
    case ws_event::kind::message:
      on_message(ev.payload, ev.binary);
      return;
    case ws_event::kind::ping:
      if (close_sent_)
        return;
      spill().pong = std::string{ev.payload}; // an unanswered earlier ping is folded into this one
      if (!write_in_flight_)
        flush();
      return;
    case ws_event::kind::pong:
      awaiting_pong_ = false;
      return;
    case ws_event::kind::close:
      close_received_ = true;
      discarding_ = true;
      if (close_sent_) { // the answer to our close frame
        if (close_written_)
          linger();
        return;
      }
      start_close(ev.code != 0 ? ev.code : 1000, "", close_kind::echo, false);
      return;
  }
}

void ws_session::on_message(std::string_view bytes, bool binary) {
  if (close_sent_)
    return; // closing: the client's late messages are not acted on
  auto& m = node_metrics();
  m.conn_frames_in.fetch_add(1, std::memory_order_relaxed);
  {
    std::lock_guard<queue_lock> guard{mtx_};
    last_in_us_ = now_us();
  }
  auto out = decoder_->decode(bytes, binary);
  if (out.pong)
    awaiting_pong_ = false;
  for (auto& r : out.replies)
    send_text(std::move(r));
  for (auto& msg : out.frames)
    std::visit([this](auto& m) { caf::anon_send(conn_, std::move(m)); }, msg);
  if (out.close)
    start_close(1000, "client closed", close_kind::graceful, true);
}


void ws_session::send_text(std::string bytes) {
  node_metrics().conn_replies_out.fetch_add(1, std::memory_order_relaxed);
  send(make_frame(std::move(bytes), false));
}

send_result ws_session::send(frame f) {
  auto size = f.bytes.size();
  size_t dropped = 0;
  size_t frames = 0;
  size_t bytes = 0;
  bool overflow = false;
  bool ask_flush = false;
  {
    std::lock_guard<queue_lock> guard{mtx_};
    if (closing_)
      return send_result::closed;
    auto fits = [&] {
      return queue_.size() < ctx_.edge.outbound_max_messages
             && queued_bytes_ + size <= ctx_.edge.outbound_max_bytes;
    };
    if (!fits() && ctx_.edge.slow_consumer_policy == edge_settings::slow_policy::drop_oldest)
      dropped = drop_oldest_events(size);
    if (fits()) {
      queue_.push_back(std::move(f));
      queued_bytes_ += size;
      ask_flush = !flush_requested_;
      flush_requested_ = true;
    } else {
      overflow = true;
      closing_ = true;
      frames = queue_.size();
      bytes = queued_bytes_;
    }
  }
  if (dropped > 0) {
    node_metrics().conn_slow_dropped.fetch_add(dropped, std::memory_order_relaxed);
    if (conn_)
      caf::anon_send(conn_, dropped_atom_v, static_cast<uint64_t>(dropped));
  }
  if (!overflow) {
    if (ask_flush)
      loop_.request_flush(shared_from_this());
    return send_result::queued;
  }
  node_metrics().conn_slow_closed.fetch_add(1, std::memory_order_relaxed);
  spdlog::info("conn.slow_consumer queued_frames={} queued_bytes={} closing 1008",
               frames, bytes);
  boost::asio::post(sock_.get_executor(), [self = shared_from_this()] {
    self->start_close(1008, "slow consumer", close_kind::graceful, false);
  });
  return send_result::overflow;
}

// mtx_ held. Drops the oldest half of the queued events (frames with a
// publish time; replies to the client's requests stay), at least enough to
// make room for `incoming` bytes if events alone can. Half at a time, so a
// client that stays slow costs one pass per many sends, not one per send.
size_t ws_session::drop_oldest_events(size_t incoming) {
  size_t events = 0;
  for (auto& q : queue_)
    events += q.ts_us > 0 ? 1 : 0;
  size_t target = std::max<size_t>(1, events / 2);
  size_t dropped = 0;
  std::vector<frame> kept;
  kept.reserve(queue_.size());
  for (auto& q : queue_) {
    bool room = queue_.size() - dropped < ctx_.edge.outbound_max_messages
                && queued_bytes_ + incoming <= ctx_.edge.outbound_max_bytes;
    if (q.ts_us > 0 && (dropped < target || !room)) {
      queued_bytes_ -= q.bytes.size();
      ++dropped;
      continue;
    }
    kept.push_back(std::move(q));
  }
  queue_.swap(kept);
  return dropped;
}

sink_stats ws_session::stats() const {
  std::lock_guard<queue_lock> guard{mtx_};
  return sink_stats{peer_, dialect_, queue_.size(), queued_bytes_,
                    frames_out_, bytes_out_, last_in_us_};
}

void ws_session::close(uint16_t code, std::string_view reason) {
  boost::asio::post(sock_.get_executor(),
                    [self = shared_from_this(), code, r = std::string{reason}] {
                      self->start_close(code, r, close_kind::graceful, true);
                    });
}

void ws_session::abort() {
  finish(boost::asio::error::operation_aborted);
}

namespace {

// Frames a client may get at once before pacing starts: a fifth of a
// second's worth, at least 10.
double burst_frames(double pace_above) {
  return std::max(10.0, pace_above / 5);
}

// Storage of written batches, kept per I/O thread for the queues of paced
// sessions. A paced stream refills its queue before every write; given the
// storage of an earlier batch at once, the actors' sends into it do not grow
// it frame by frame (at 8 frames per write: four allocations in the actor's
// thread and frees here, on another thread's arena, per write). Bounded: a
// loop keeps at most 256 spare vectors of up to 64 frames.
constexpr size_t max_spare_batches = 256;
constexpr size_t max_spare_frames = 64;
thread_local std::vector<std::vector<frame>> spare_batches;

// Never allocates: an empty vector when there is no spare storage.
std::vector<frame> take_batch_storage() {
  std::vector<frame> v;
  if (!spare_batches.empty()) {
    v = std::move(spare_batches.back());
    spare_batches.pop_back();
  }
  return v;
}

void recycle_batch_storage(std::vector<frame>&& v) {
  v.clear(); // releases the frames now
  if (v.capacity() > 0 && v.capacity() <= max_spare_frames
      && spare_batches.size() < max_spare_batches)
    spare_batches.push_back(std::move(v));
}

} // namespace

bool ws_session::within_rate() {
  auto rate = ctx_.edge.pace_above;
  if (rate <= 0)
    return true;
  auto now = std::chrono::steady_clock::now();
  auto elapsed = std::chrono::duration<double>(now - tokens_at_).count();
  frame_tokens_ = static_cast<float>(
    std::min(burst_frames(rate), static_cast<double>(frame_tokens_) + elapsed * rate));
  tokens_at_ = now;
  return frame_tokens_ >= 1;
}

void ws_session::write_queued(bool pace_due) {
  if (finished_ || write_in_flight_ || handshake_ || paced_)
    return; // on_write, on_accept or the pacing flushes again
  // A write this large is plenty per turn; the rest waits for the next one.
  static constexpr size_t max_write_bytes = 256 * 1024;
  // Control frames (pong, ping, close) are not paced, and take the queued
  // frames along.
  bool control = ping_due_ || (spill_ && (spill_->pong || !spill_->close_out.empty()));
  bool budget = control || pace_due || within_rate();
  std::vector<frame> batch;
  // A paced stream's queue refills before its next write: storage for it,
  // taken here so that nothing is allocated under the lock.
  std::vector<frame> refill;
  if (pace_due)
    refill = take_batch_storage();
  bool more = false;
  size_t batch_bytes = 0;
  {
    std::lock_guard<queue_lock> guard{mtx_};
    if (!budget) {
      if (queue_.empty()) {
        flush_requested_ = false;
        return;
      }
      // flush_requested_ stays set: frames queued meanwhile wait for this.
      paced_ = true;
    } else if (queued_bytes_ <= max_write_bytes) {
      batch_bytes = queued_bytes_;
      batch.swap(queue_);
      queue_.swap(refill); // empty unless pace_due
      queued_bytes_ = 0;
      flush_requested_ = false;
    } else {
      size_t taken = 0;
      size_t n = 0;
      while (n < queue_.size() && (n == 0 || taken + queue_[n].bytes.size() <= max_write_bytes))
        taken += queue_[n++].bytes.size();
      batch.assign(std::make_move_iterator(queue_.begin()),
                   std::make_move_iterator(queue_.begin() + static_cast<std::ptrdiff_t>(n)));
      queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
      queued_bytes_ -= taken;
      batch_bytes = taken;
      more = true; // flush_requested_ stays set: the write completion flushes again
    }
  }
  if (refill.capacity() > 0) // not used: the queue kept its frames
    recycle_batch_storage(std::move(refill));
  if (paced_) {
    node_metrics().conn_paced_writes.fetch_add(1, std::memory_order_relaxed);
    loop_.pace(shared_from_this());
    return;
  }
  if (!batch.empty() && ctx_.edge.pace_above > 0) {
    // A stream far over the rate stays paced until it has been below it
    // for a while (at most a burst's worth of debt).
    auto burst = burst_frames(ctx_.edge.pace_above);
    frame_tokens_ = static_cast<float>(
      std::max(-burst, static_cast<double>(frame_tokens_) - static_cast<double>(batch.size())));
  }
  bool has_close = spill_ && !spill_->close_out.empty() && !more;
  bool has_pong = spill_ && spill_->pong;
  if (batch.empty() && !has_pong && !ping_due_ && !has_close)
    return;
  // Control frames first (they may not wait behind a backlog), then the
  // queued frames in order, then our close frame, all in one buffer: the
  // loop's, when it sends this pass's writes together (a small one: a large
  // write's system call is little next to copying it).
  auto size = batch_bytes + 10 * batch.size() + (has_pong ? spill_->pong->size() + 2 : 0)
              + (ping_due_ ? 2 : 0) + (has_close ? spill_->close_out.size() : 0);
  auto* queued = size <= io_loop::max_queued_write ? loop_.queue_write() : nullptr;
  thread_local std::string direct;
  auto& out = queued != nullptr ? queued->bytes : direct;
  out.clear();
  if (has_pong) {
    append_ws_frame(out, ws_opcode::pong, *spill_->pong);
    spill_->pong.reset();
  }
  if (ping_due_) {
    append_ws_frame(out, ws_opcode::ping, {});
    ping_due_ = false;
  }
  for (auto& f : batch)
    append_ws_frame(out, f.binary ? ws_opcode::binary : ws_opcode::text, *f.bytes);
  if (has_close)
    out += spill_->close_out;
  // Our close frame, when after_close_sent() ends the connection at once.
  bool last = has_close && (close_received_ || close_kind_ == close_kind::failure);
  if (queued != nullptr) {
    queued->session = shared_from_this();
    queued->frames = std::move(batch);
    queued->flags = last ? MSG_MORE : 0;
    queued->has_close = has_close;
    queued->more = more;
    write_in_flight_ = true; // until write_sent, at the end of this pass
    return;
  }
  beast::error_code ec;
  auto written = send_what_fits(sock_, out, ec, last);
  after_send(out, written, ec, std::move(batch), has_close, more);
}

void ws_session::write_sent(io_loop::queued_write& w, ssize_t result) {
  write_in_flight_ = false;
  beast::error_code ec;
  size_t written = 0;
  if (result >= 0)
    written = static_cast<size_t>(result);
  else if (result != -EAGAIN && result != -EWOULDBLOCK)
    ec.assign(static_cast<int>(-result), boost::asio::error::get_system_category());
  after_send(w.bytes, written, ec, std::move(w.frames), w.has_close, w.more);
}

// `written` of `out` went out; the rest goes out asynchronously.
void ws_session::after_send(const std::string& out, size_t written, beast::error_code ec,
                            std::vector<frame> frames, bool has_close, bool more) {
  if (ec) {
    finish(ec);
  } else if (written == out.size()) {
    account(frames);
    recycle_batch_storage(std::move(frames));
    if (has_close) {
      std::string{}.swap(spill_->close_out);
      after_close_sent();
    }
  } else {
    auto& sp = spill();
    sp.pending_out.assign(out, written, std::string::npos);
    sp.in_flight = std::move(frames);
    close_in_write_ = has_close;
    write_in_flight_ = true;
    boost::asio::async_write(sock_, boost::asio::buffer(sp.pending_out),
                             [self = shared_from_this()](beast::error_code ec, size_t) {
                               self->on_write(ec);
                             });
  }
  if (!write_in_flight_)
    trim_spill();
  if (more && !write_in_flight_ && !finished_)
    loop_.request_flush(shared_from_this());
}

void ws_session::on_write(beast::error_code ec) {
  write_in_flight_ = false;
  auto& sp = spill();
  std::string{}.swap(sp.pending_out);
  auto frames = std::move(sp.in_flight);
  sp.in_flight = {};
  if (ec) {
    finish(ec);
    return;
  }
  account(frames);
  if (close_in_write_) {
    close_in_write_ = false;
    std::string{}.swap(sp.close_out);
    after_close_sent();
  }
  trim_spill();
  if (!finished_)
    flush();
}

void ws_session::account(const std::vector<frame>& frames) {
  if (frames.empty())
    return;
  uint64_t bytes = 0;
  auto now = now_us();
  metrics::latency_tally latencies{node_metrics()};
  for (auto& f : frames) {
    bytes += f.bytes.size();
    if (f.ts_us > 0)
      latencies.add(now - f.ts_us);
  }
  std::lock_guard<queue_lock> guard{mtx_};
  frames_out_ += frames.size();
  bytes_out_ += bytes;
}


void ws_session::start_close(uint16_t code, std::string_view reason, close_kind kind,
                             bool deliver_queued) {
  if (close_sent_ || finished_)
    return;
  close_sent_ = true;
  close_kind_ = kind;
  if (kind != close_kind::graceful)
    discarding_ = true;
  std::vector<frame> dropped; // freed after the lock is released
  {
    std::lock_guard<queue_lock> guard{mtx_};
    closing_ = true; // nothing new is queued; the close frame follows what is
    if (!deliver_queued) {
      dropped.swap(queue_); // a write in flight still completes
      queued_bytes_ = 0;
    }
  }
  dropped.clear();
  // A client that stopped reading blocks the close frame behind a stuck
  // write: the whole close has a deadline, then the TCP connection goes.
  deadline_kind_ = deadline_kind::close;
  deadline_ = std::chrono::steady_clock::now() + ctx_.edge.handshake_timeout;
  spdlog::debug("conn.close code={} reason={}", code, reason);
  append_ws_close(spill().close_out, code, reason);
  flush();
}

void ws_session::after_close_sent() {
  close_written_ = true;
  if (close_received_ || close_kind_ == close_kind::failure)
    linger();
  // graceful: on_event(close) lingers when the client answers.
}

// The close handshake is complete (or abandoned). When both close frames are
// through and nothing is left unread, the connection closes at once (RFC 6455
// section 7.1.1: the server closes the TCP connection first). Otherwise stop
// sending and read until the client hangs up, so unread input does not turn
// our close into a reset that could destroy the close frame in flight.
void ws_session::linger() {
  discarding_ = true;
  bool drained = false; // the client's close frame was its last input
  if (close_received_) {
    char rest[512]; // input after the client's close frame is dropped
    for (int round = 0; round < 4 && !drained; ++round) {
      beast::error_code ec;
      receive_now(sock_, rest, sizeof rest, ec);
      if (would_block(ec)) {
        drained = true;
      } else if (ec) { // the client hung up already (eof) or reset
        finish(ec);
        return;
      }
    }
  }
  // Sends a close frame held back for the FIN (MSG_MORE) with it, before any
  // close(): input arriving in between cannot turn that into a reset that
  // discards the frame.
  beast::error_code ignored;
  sock_.shutdown(loop_socket::shutdown_send, ignored);
  if (drained)
    finish(boost::asio::error::eof);
}


// Deadlines alternate: after ping_interval a ping goes out and the pong is
// due within pong_timeout; then the rest of the interval passes. Once a
// close has started, the only deadline left is the close's.
void ws_session::tick(std::chrono::steady_clock::time_point now) {
  if (finished_ || deadline_kind_ == deadline_kind::none || now < deadline_)
    return;
  switch (deadline_kind_) {
    case deadline_kind::close:
      spdlog::info("conn.close_timeout after={}s dropping connection",
                   ctx_.edge.handshake_timeout.count());
      finish(beast::error::timeout);
      return;
    case deadline_kind::pong:
      if (awaiting_pong_) {
        spdlog::info("conn.pong_timeout after={}s closing", ctx_.edge.pong_timeout.count());
        finish(beast::error::timeout);
        return;
      }
      deadline_kind_ = deadline_kind::ping;
      deadline_ = now + std::max<std::chrono::steady_clock::duration>(
                          ctx_.edge.ping_interval - ctx_.edge.pong_timeout,
                          std::chrono::seconds{0});
      return;
    case deadline_kind::ping:
      send_ping();
      deadline_kind_ = deadline_kind::pong;
      deadline_ = now + ctx_.edge.pong_timeout;
      return;
    case deadline_kind::none:
      return;
  }
}

void ws_session::send_ping() {
  awaiting_pong_ = true;
  ping_due_ = true;
  if (auto beat = decoder_->heartbeat()) // Engine.IO: "2", answered with "3"
    send_text(std::move(*beat));
  if (!write_in_flight_)
    flush();
}

void ws_session::finish(beast::error_code ec) {
  if (finished_)
    return;
  finished_ = true;
  if (!is_expected_end(ec))
    spdlog::debug("conn.end error={}", ec.message());
  std::vector<frame> dropped; // freed after the lock is released
  {
    std::lock_guard<queue_lock> guard{mtx_};
    closing_ = true;
    dropped.swap(queue_);
    queued_bytes_ = 0;
  }
  dropped.clear();
  if (ticking_) {
    loop_.remove(this);
    ticking_ = false;
  }
  ticket_.reset();
  beast::error_code ignored;
  sock_.close(ignored);
  if (registered_) {
    std::lock_guard<std::mutex> guard{ctx_.sessions_mtx};
    ctx_.sessions.erase(this);
    registered_ = false;
  }
  if (conn_) {
    caf::anon_send(conn_, closed_atom_v);
    node_metrics().conn_open.fetch_sub(1, std::memory_order_relaxed);
    node_metrics().conn_by_dialect[dialect_index_].fetch_sub(1, std::memory_order_relaxed);
  }
}

} // namespace tickgate::net
