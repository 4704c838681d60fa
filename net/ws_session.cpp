#include "net/ws_session.hpp"

#include <cerrno>

#include <sys/socket.h>

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <caf/send.hpp>
#include <spdlog/spdlog.h>

#include "actors/connection_actor.hpp"
#include "actors/metrics.hpp"
#include "net/engineio_polling.hpp"
#include "net/socket_io.hpp"
#include "net/ws_upgrade.hpp"
#include "proto/native_codec.hpp"
#include "proto/payload.hpp"

namespace tickgate::net {

namespace beast = boost::beast;
namespace http = beast::http;

ws_session::ws_session(loop_socket&& socket,
                       net_context& ctx, io_loop& loop, const std::string& dialect)
  : sock_(std::move(socket)),
    ctx_(ctx),
    loop_(loop),
    dialect_(dialect),
    reader_(ctx.edge.max_frame_bytes) {
}

ws_session::~ws_session() = default;

// The index of the dialect's label in the conn_by_dialect gauges.
static uint8_t dialect_slot(const std::string& d) {
  uint8_t i = 0;
  for (; !metrics::dialect_name(i).empty(); ++i)
    if (d == metrics::dialect_name(i))
      return i;
  return i - 1; // "auto", the last label
}

void ws_session::run(http_request req, const boost::asio::ip::tcp::endpoint& peer,
                     std::string early) {
  peer_ = peer.address().to_string() + ":" + std::to_string(peer.port());
  dialect_index_ = dialect_slot(dialect_);
  auto upgrade = accept_upgrade(req, dialect_, ctx_.edge);
  handshake_ = std::make_unique<handshake>();
  handshake_->early = std::move(early);
  handshake_->client = std::move(upgrade.client);
  decoder_ = std::move(upgrade.decoder);
  // The 101, written at once: a fresh socket takes it.
  auto& answer = upgrade.response;
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
  if (life_.finished())
    return; // dropped at the handshake deadline
  if (ec) {
    fail(ec, "conn.handshake_failed");
    handshake_.reset();
    finish(ec);
    return;
  }
  auto client = std::move(handshake_->client);
  auto early = std::move(handshake_->early);
  handshake_.reset();
  life_.opened();
  bool shutting_down;
  {
    std::lock_guard<std::mutex> guard{ctx_.sessions_mtx};
    shutting_down = ctx_.shutting_down;
    ctx_.sessions.insert(this);
    registered_ = true;
  }
  if (eio_) { // the long-polling session's connection, once the probe succeeds
    conn_ = eio_->actor();
    probing_ = true;
  } else {
    auto& m = node_metrics();
    m.conn_open.fetch_add(1, std::memory_order_relaxed);
    m.conn_accepted.fetch_add(1, std::memory_order_relaxed);
    m.conn_by_dialect[dialect_index_].fetch_add(1, std::memory_order_relaxed);
    conn_ = ctx_.system.spawn(connection_actor,
                              std::static_pointer_cast<session_sink>(shared_from_this()),
                              ctx_.router, ctx_.connection_settings(), std::move(client));
    for (auto& greeting : decoder_->on_open())
      send_text(std::move(greeting));
  }
  if (!ticking_) {
    loop_.add(this);
    ticking_ = true;
  }
  // A probe has the handshake timeout to complete the upgrade (and gets no
  // pings: the client would take one for a failed probe).
  deadline_kind_ = probing_ ? deadline_kind::close : deadline_kind::ping;
  deadline_ = std::chrono::steady_clock::now()
              + (probing_ ? ctx_.edge.handshake_timeout : ctx_.edge.ping_interval);
  if (!early.empty()) {
    consume(early.data(), early.size());
    if (life_.finished())
      return;
  }
  read_on();
  if (shutting_down)
    start_close(1001, "server shutting down", close_kind::graceful, true);
}

sink_stats ws_session::stats() const {
  auto q = queue_.stats();
  return sink_stats{peer_, dialect_, q.queued_frames, q.queued_bytes,
                    q.frames_out, q.bytes_out, last_in_us_.load(std::memory_order_relaxed)};
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

void ws_session::start_close(uint16_t code, std::string_view reason, close_kind kind,
                             bool deliver_queued) {
  if (!life_.start_close(kind))
    return;
  std::vector<frame> dropped; // freed after the queue's lock is released
  queue_.close(!deliver_queued, dropped); // nothing new is queued; the close frame follows what is
  dropped.clear();
  // A client that stopped reading blocks the close frame behind a stuck
  // write: the whole close has a deadline, then the TCP connection goes.
  deadline_kind_ = deadline_kind::close;
  deadline_ = std::chrono::steady_clock::now() + ctx_.edge.handshake_timeout;
  spdlog::debug("conn.close code={} reason={}", code, reason);
  append_ws_close(spill().close_out, code, reason);
  flush();
  // Messages are no longer acted on: read on, for the client's close frame.
  if (read_paused_ && !life_.finished())
    resume_reading();
}

void ws_session::after_close_sent() {
  if (life_.close_written())
    linger();
  // closing -> awaiting_close: on_event(close) lingers when the client answers.
}

// The close handshake is complete (or abandoned). When both close frames are
// through and nothing is left unread, the connection closes at once (RFC 6455
// section 7.1.1: the server closes the TCP connection first). Otherwise stop
// sending and read until the client hangs up, so unread input does not turn
// our close into a reset that could destroy the close frame in flight.
void ws_session::linger() {
  bool client_closed = life_.linger();
  bool drained = false; // the client's close frame was its last input
  if (client_closed) {
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
  if (life_.finished() || deadline_kind_ == deadline_kind::none || now < deadline_)
    return;
  switch (deadline_kind_) {
    case deadline_kind::close:
      spdlog::info("conn.close_timeout after={}s dropping connection",
                   ctx_.edge.handshake_timeout.count());
      finish(beast::error::timeout);
      return;
    case deadline_kind::pong:
      spdlog::info("conn.pong_timeout after={}s closing", ctx_.edge.pong_timeout.count());
      finish(beast::error::timeout);
      return;
    case deadline_kind::answered:
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
  ping_due_ = true;
  if (auto beat = decoder_->heartbeat()) // Engine.IO: "2", answered with "3"
    send_text(std::move(*beat));
  if (!write_in_flight_)
    flush();
}

void ws_session::finish(beast::error_code ec) {
  if (!life_.finish())
    return;
  fail(ec, "conn.end");
  std::vector<frame> dropped; // freed after the queue's lock is released
  queue_.close(true, dropped);
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
  if (eio_) { // the long-polling session goes on (a failed probe) or ends with us
    eio_->transport_closed(this);
    eio_.reset();
  } else if (conn_) {
    caf::anon_send(conn_, closed_atom_v);
    node_metrics().conn_open.fetch_sub(1, std::memory_order_relaxed);
    node_metrics().conn_by_dialect[dialect_index_].fetch_sub(1, std::memory_order_relaxed);
  }
}

} // namespace tickgate::net
