#include "net/ws_session.hpp"

#include <random>

#include <boost/asio/post.hpp>
#include <caf/send.hpp>
#include <spdlog/spdlog.h>

#include "actors/connection_actor.hpp"
#include "actors/metrics.hpp"
#include "proto/native_codec.hpp"
#include "proto/payload.hpp"

namespace tickgate::net {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
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
  return ec == websocket::error::closed || ec == boost::asio::error::eof
         || ec == boost::asio::error::operation_aborted
         || ec == boost::asio::error::connection_reset
         || ec == beast::error::timeout;
}

} // namespace

ws_session::ws_session(boost::asio::ip::tcp::socket&& socket,
                       net_context& ctx, std::string dialect)
  : ws_(std::move(socket)),
    ctx_(ctx),
    dialect_(std::move(dialect)),
    ping_timer_(ws_.get_executor()) {
}

ws_session::~ws_session() = default;

static size_t dialect_slot(const std::string& d) {
  static const char* names[] = {"native", "action", "stream", "typed", "socketio", "auto"};
  for (size_t i = 0; i < 6; ++i)
    if (d == names[i])
      return i;
  return 5;
}

void ws_session::run(http_request req) {
  {
    beast::error_code ec;
    auto ep = beast::get_lowest_layer(ws_).socket().remote_endpoint(ec);
    peer_ = ec ? "?" : ep.address().to_string() + ":" + std::to_string(ep.port());
  }
  dialect_index_ = dialect_slot(dialect_);
  client_.peer = peer_;
  client_.dialect = dialect_;
  client_.origin = std::string{req[http::field::origin]};
  client_.token = bearer_token(req);
  decoder_options options;
  options.session_id = random_id();
  if (dialect_ == "native" || dialect_ == "auto")
    options.forced = pick_subprotocol(req[http::field::sec_websocket_protocol],
                                      subprotocol_);
  options.ping_interval_ms
    = std::chrono::duration_cast<std::chrono::milliseconds>(ctx_.edge.ping_interval).count();
  options.ping_timeout_ms
    = std::chrono::duration_cast<std::chrono::milliseconds>(ctx_.edge.pong_timeout).count();
  options.max_payload = ctx_.edge.max_frame_bytes;
  decoder_ = make_frame_decoder(dialect_, std::move(options));
  ws_.set_option(websocket::stream_base::timeout{
    ctx_.edge.handshake_timeout, websocket::stream_base::none(), false});
  ws_.read_message_max(ctx_.edge.max_frame_bytes);
  ws_.auto_fragment(false);
  ws_.set_option(websocket::stream_base::decorator(
    [sub = subprotocol_](websocket::response_type& res) {
      res.set(http::field::server, "tickgate");
      if (!sub.empty())
        res.set(http::field::sec_websocket_protocol, sub);
    }));
  ws_.async_accept(req, [self = shared_from_this()](beast::error_code ec) {
    self->on_accept(ec);
  });
}

void ws_session::on_accept(beast::error_code ec) {
  if (ec) {
    spdlog::debug("conn.handshake_failed error={}", ec.message());
    finished_ = true;
    return;
  }
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
                            ctx_.router, ctx_.routing, client_);
  ws_.control_callback(
    [this](websocket::frame_type kind, beast::string_view) {
      if (kind == websocket::frame_type::pong)
        awaiting_pong_ = false;
    });
  for (auto& greeting : decoder_->on_open())
    send_text(std::move(greeting));
  do_read();
  if (shutting_down) {
    start_close(1001, "server shutting down");
    return;
  }
  arm_ping_timer(ctx_.edge.ping_interval);
}

void ws_session::do_read() {
  ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec,
                                                      size_t bytes) {
    self->on_read(ec, bytes);
  });
}

void ws_session::on_read(beast::error_code ec, size_t) {
  if (ec) {
    if (ec == websocket::error::message_too_big) {
      // Beast has already sent close 1009 (message too big).
      node_metrics().conn_frames_too_large.fetch_add(1,
                                                     std::memory_order_relaxed);
      spdlog::info("conn.frame_too_large limit={} closing 1009",
                   ctx_.edge.max_frame_bytes);
    }
    finish(ec);
    return;
  }
  auto& m = node_metrics();
  m.conn_frames_in.fetch_add(1, std::memory_order_relaxed);
  m.conn_bytes_in.fetch_add(buffer_.size(), std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> guard{mtx_};
    last_in_us_ = now_us();
  }
  std::string_view bytes{static_cast<const char*>(buffer_.data().data()),
                         buffer_.size()};
  auto out = decoder_->decode(bytes, ws_.got_binary());
  buffer_.consume(buffer_.size());
  if (out.pong)
    awaiting_pong_ = false;
  for (auto& r : out.replies)
    send_text(std::move(r));
  for (auto& msg : out.frames)
    std::visit([this](auto& m) { caf::anon_send(conn_, std::move(m)); }, msg);
  if (out.close)
    start_close(1000, "client closed"); // the read below sees the close reply
  do_read();
}

void ws_session::send_text(std::string bytes) {
  node_metrics().conn_replies_out.fetch_add(1, std::memory_order_relaxed);
  send(make_frame(std::move(bytes), false));
}

send_result ws_session::send(const frame& f) {
  auto size = f.bytes->size();
  size_t frames = 0;
  size_t bytes = 0;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (closing_)
      return send_result::closed;
    if (queue_.size() < ctx_.edge.outbound_max_messages
        && queued_bytes_ + size <= ctx_.edge.outbound_max_bytes) {
      queue_.push_back(f);
      queued_bytes_ += size;
      if (draining_)
        return send_result::queued;
      draining_ = true;
      boost::asio::post(ws_.get_executor(),
                        [self = shared_from_this()] { self->drain(); });
      return send_result::queued;
    }
    closing_ = true;
    frames = queue_.size();
    bytes = queued_bytes_;
  }
  node_metrics().conn_slow_closed.fetch_add(1, std::memory_order_relaxed);
  spdlog::info("conn.slow_consumer queued_frames={} queued_bytes={} closing 1008",
               frames, bytes);
  boost::asio::post(ws_.get_executor(), [self = shared_from_this()] {
    self->start_close(1008, "slow consumer");
  });
  return send_result::overflow;
}

sink_stats ws_session::stats() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return sink_stats{peer_, dialect_, queue_.size(), queued_bytes_,
                    frames_out_, bytes_out_, last_in_us_};
}

void ws_session::close(uint16_t code, std::string_view reason) {
  boost::asio::post(ws_.get_executor(),
                    [self = shared_from_this(), code, r = std::string{reason}] {
                      self->start_close(code, r);
                    });
}

void ws_session::abort() {
  finish(boost::asio::error::operation_aborted);
}

void ws_session::drain() {
  const frame* next = nullptr;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (queue_.empty() || closing_ || finished_) {
      draining_ = false;
      return;
    }
    next = &queue_.front(); // stays put: only on_write pops, and it runs after this write
  }
  ws_.binary(next->binary);
  write_in_flight_ = true;
  ws_.async_write(boost::asio::buffer(*next->bytes),
                  [self = shared_from_this()](beast::error_code ec, size_t n) {
                    self->on_write(ec, n);
                  });
}

void ws_session::on_write(beast::error_code ec, size_t) {
  write_in_flight_ = false;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (!queue_.empty()) {
      auto& done = queue_.front();
      auto size = done.bytes->size();
      queued_bytes_ -= size;
      if (!ec) {
        ++frames_out_;
        bytes_out_ += size;
        if (done.ts_us > 0)
          node_metrics().observe_latency(now_us() - done.ts_us);
      }
      queue_.pop_front();
    }
    if (ec)
      draining_ = false;
  }
  if (ec) {
    finish(ec);
    return;
  }
  drain();
}

void ws_session::drop_unsent() {
  // The frame being written (front, while write_in_flight_) must outlive the
  // write; on_write pops it.
  while (queue_.size() > (write_in_flight_ ? 1u : 0u)) {
    queued_bytes_ -= queue_.back().bytes->size();
    queue_.pop_back();
  }
}

void ws_session::start_close(uint16_t code, std::string reason) {
  if (close_started_ || finished_)
    return;
  // A peer that stopped reading blocks the close frame behind a stuck write
  // (and Beast starts its close timeout only once the frame is out): give the
  // whole close a hard deadline, then drop the TCP connection.
  if (!close_deadline_armed_) {
    close_deadline_armed_ = true;
    ping_timer_.expires_after(ctx_.edge.handshake_timeout);
    ping_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec || self->finished_)
        return;
      spdlog::info("conn.close_timeout after={}s dropping connection",
                   self->ctx_.edge.handshake_timeout.count());
      beast::error_code ignored;
      beast::get_lowest_layer(self->ws_).socket().close(ignored);
    });
  }
  {
    std::lock_guard<std::mutex> guard{mtx_};
    closing_ = true;
    drop_unsent();
  }
  if (ping_in_flight_) {
    deferred_close_.emplace(code, std::move(reason));
    return;
  }
  close_started_ = true;
  spdlog::debug("conn.close code={} reason={}", code, reason);
  websocket::close_reason cr{static_cast<websocket::close_code>(code), reason};
  ws_.async_close(cr, [self = shared_from_this()](beast::error_code ec) {
    // On success the pending read ends with websocket::error::closed.
    if (ec)
      self->finish(ec);
  });
}

void ws_session::arm_ping_timer(std::chrono::steady_clock::duration after) {
  ping_timer_.expires_after(after);
  ping_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
    if (!ec)
      self->on_ping_timer();
  });
}

// The timer alternates between two phases: after ping_interval it sends a
// ping and waits pong_timeout (pong_check_due_); then it gives up on a silent
// peer or waits out the rest of the interval.
void ws_session::on_ping_timer() {
  if (finished_ || close_started_ || close_deadline_armed_)
    return;
  if (pong_check_due_) {
    pong_check_due_ = false;
    if (awaiting_pong_) {
      spdlog::info("conn.pong_timeout after={}s closing",
                   ctx_.edge.pong_timeout.count());
      beast::error_code ignored;
      beast::get_lowest_layer(ws_).socket().close(ignored);
      return;
    }
    auto rest = ctx_.edge.ping_interval - ctx_.edge.pong_timeout;
    arm_ping_timer(std::max<std::chrono::steady_clock::duration>(rest, std::chrono::seconds{0}));
    return;
  }
  if (ping_in_flight_) { // the last ping is still not written: try next period
    arm_ping_timer(ctx_.edge.ping_interval);
    return;
  }
  awaiting_pong_ = true;
  ping_in_flight_ = true;
  pong_check_due_ = true;
  if (auto beat = decoder_->heartbeat()) // Engine.IO: "2", answered with "3"
    send_text(std::move(*beat));
  ws_.async_ping({}, [self = shared_from_this()](beast::error_code ec) {
    self->ping_in_flight_ = false;
    if (!ec && self->deferred_close_) {
      auto [code, reason] = std::move(*self->deferred_close_);
      self->deferred_close_.reset();
      self->start_close(code, std::move(reason));
    }
  });
  arm_ping_timer(ctx_.edge.pong_timeout);
}

void ws_session::finish(beast::error_code ec) {
  if (finished_)
    return;
  finished_ = true;
  if (!is_expected_end(ec) && ec != websocket::error::message_too_big)
    spdlog::debug("conn.end error={}", ec.message());
  {
    std::lock_guard<std::mutex> guard{mtx_};
    closing_ = true;
    drop_unsent();
  }
  ping_timer_.cancel();
  ticket_.reset();
  beast::error_code ignored;
  beast::get_lowest_layer(ws_).socket().close(ignored);
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
