// ws_session, inbound: reading the socket, decoding frames, handing messages
// to the connection actor, and pausing while the actor is behind.
#include <boost/asio/post.hpp>
#include <caf/send.hpp>
#include <spdlog/spdlog.h>

#include "actors/metrics.hpp"
#include "net/engineio_polling.hpp"
#include "net/socket_io.hpp"
#include "net/ws_session.hpp"
#include "proto/payload.hpp"

namespace tickgate::net {

namespace beast = boost::beast;

void ws_session::wait_readable() {
  sock_.async_wait(loop_socket::wait_read,
                   [self = shared_from_this()](beast::error_code ec) {
                     self->on_readable(ec);
                   });
}

void ws_session::on_readable(beast::error_code ec) {
  if (life_.finished())
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
    if (!life_.discarding())
      consume(scratch.get(), n);
    if (life_.finished())
      return;
    if (n < scratch_size || actor_behind())
      break;
  }
  read_on();
}

bool ws_session::actor_behind() const {
  auto bound = ctx_.edge.inbound_queue;
  return bound > 0 && life_.is_open()
         && (inbound_.load(std::memory_order_relaxed) & ~paused_bit) >= bound;
}

bool ws_session::take_pause(uint32_t seen) {
  while ((seen & paused_bit) != 0)
    if (inbound_.compare_exchange_weak(seen, seen & ~paused_bit, std::memory_order_acq_rel))
      return true;
  return false;
}

// The pause is a handshake with command_done() on the actor's thread over
// one atomic word (count and paused_bit): the loop thread sets the bit; if
// the count it saw is already down to half, it takes the bit back itself,
// unless command_done() took it first and posted resume_reading().
void ws_session::read_on() {
  auto half = ctx_.edge.inbound_queue / 2;
  while (actor_behind()) {
    auto seen = inbound_.fetch_or(paused_bit, std::memory_order_acq_rel) | paused_bit;
    if ((seen & ~paused_bit) > half || !take_pause(seen)) {
      read_paused_ = true; // command_done() posts resume_reading()
      node_metrics().conn_read_pauses.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    // The actor caught up meanwhile: decode what the pause held back.
    consume(nullptr, 0);
    if (life_.finished())
      return;
  }
  wait_readable();
}

void ws_session::resume_reading() {
  if (!read_paused_ || life_.finished())
    return;
  read_paused_ = false;
  if (!life_.discarding())
    consume(nullptr, 0); // the frames read before the pause
  if (life_.finished())
    return;
  read_on();
}

void ws_session::command_done() {
  auto left = inbound_.fetch_sub(1, std::memory_order_acq_rel) - 1;
  if ((left & paused_bit) != 0 && (left & ~paused_bit) <= ctx_.edge.inbound_queue / 2
      && take_pause(left))
    boost::asio::post(sock_.get_executor(),
                      [self = shared_from_this()] { self->resume_reading(); });
}

void ws_session::consume(char* data, size_t size) {
  if (size > 0)
    node_metrics().conn_bytes_in.fetch_add(size, std::memory_order_relaxed);
  char* p = data;
  size_t len = size;
  bool carried = spill_ && !spill_->pending_in.empty();
  if (carried) {
    auto& in = spill_->pending_in;
    if (size > 0)
      in.append(data, size);
    p = in.data();
    len = in.size();
  }
  size_t off = 0;
  while (off < len && !life_.discarding() && !actor_behind()) {
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
  if (life_.discarding()) {
    if (spill_)
      std::string{}.swap(spill_->pending_in);
    trim_spill();
    return;
  }
  // Keep the incomplete frame (and, while the actor is behind, the frames
  // not decoded yet) at the end for the next read.
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
      if (life_.close_started())
        return;
      spill().pong = std::string{ev.payload}; // an unanswered earlier ping is folded into this one
      if (!write_in_flight_)
        flush();
      return;
    case ws_event::kind::pong:
      if (deadline_kind_ == deadline_kind::pong)
        deadline_kind_ = deadline_kind::answered;
      return;
    case ws_event::kind::close:
      switch (life_.on_client_close()) {
        case ws_lifecycle::client_close::echo:
          start_close(ev.code != 0 ? ev.code : 1000, "", close_kind::echo, false);
          return;
        case ws_lifecycle::client_close::linger:
          linger();
          return;
        case ws_lifecycle::client_close::wait: // after_close_sent() lingers
        case ws_lifecycle::client_close::ignore:
          return;
      }
      return;
  }
}

void ws_session::on_message(std::string_view bytes, bool binary) {
  if (life_.close_started())
    return; // closing: the client's late messages are not acted on
  if (probing_) {
    on_probe(bytes);
    return;
  }
  auto& m = node_metrics();
  m.conn_frames_in.fetch_add(1, std::memory_order_relaxed);
  last_in_us_.store(now_us(), std::memory_order_relaxed);
  auto out = decoder_->decode(bytes, binary);
  if (out.pong && deadline_kind_ == deadline_kind::pong)
    deadline_kind_ = deadline_kind::answered;
  for (auto& r : out.replies)
    send_text(std::move(r));
  // Counted before they are sent: the actor counts each down (command_done).
  inbound_.fetch_add(static_cast<uint32_t>(out.frames.size()), std::memory_order_relaxed);
  for (auto& msg : out.frames)
    std::visit([this](auto& m) { caf::anon_send(conn_, std::move(m)); }, msg);
  if (out.close)
    start_close(1000, "client closed", close_kind::graceful, true);
}

// Engine.IO's upgrade over this WebSocket: "2probe" is answered "3probe"
// (the polling session answers its waiting GET with a noop, so the client
// can pause polling); "5" switches the session here. Anything else, or a
// session that cannot upgrade, ends this WebSocket and polling goes on.
void ws_session::on_probe(std::string_view bytes) {
  if (bytes == "2probe" && eio_->probe(shared_from_this())) {
    send_text("3probe");
    return;
  }
  if (bytes == "5") {
    if (auto decoder = eio_->upgrade(shared_from_this())) {
      decoder_ = std::move(decoder);
      probing_ = false;
      deadline_kind_ = deadline_kind::ping;
      deadline_ = std::chrono::steady_clock::now() + ctx_.edge.ping_interval;
      return;
    }
  }
  spdlog::debug("conn.upgrade_refused peer={}", peer_);
  start_close(1000, "upgrade refused", close_kind::graceful, false);
}

} // namespace tickgate::net
