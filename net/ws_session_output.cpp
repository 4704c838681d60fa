// ws_session, outbound: queueing frames from actors, and writing them (with
// the control frames) to the socket, in the loop's batched sends or alone.
#include <cerrno>

#include <sys/socket.h>

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <caf/send.hpp>
#include <spdlog/spdlog.h>

#include "actors/metrics.hpp"
#include "net/socket_io.hpp"
#include "net/ws_session.hpp"
#include "proto/payload.hpp"

namespace tickgate::net {

namespace beast = boost::beast;

void ws_session::send_text(std::string bytes) {
  node_metrics().conn_replies_out.fetch_add(1, std::memory_order_relaxed);
  send(make_frame(std::move(bytes), false));
}

send_result ws_session::send(frame f) {
  auto r = queue_.push(std::move(f), ctx_.edge.outbound());
  if (r.conflated > 0)
    node_metrics().conn_slow_conflated.fetch_add(r.conflated, std::memory_order_relaxed);
  if (r.dropped > 0) {
    node_metrics().conn_slow_dropped.fetch_add(r.dropped, std::memory_order_relaxed);
    if (conn_)
      caf::anon_send(conn_, dropped_atom_v, static_cast<uint64_t>(r.dropped));
  }
  if (r.result == send_result::queued) {
    if (r.ask_flush)
      loop_.request_flush(shared_from_this());
    return send_result::queued;
  }
  if (r.result == send_result::closed)
    return send_result::closed;
  node_metrics().conn_slow_closed.fetch_add(1, std::memory_order_relaxed);
  if (ctx_.inspector) // a storm of these is an admin alert
    caf::anon_send(ctx_.inspector, slowclose_atom_v);
  spdlog::info("conn.slow_consumer queued_frames={} queued_bytes={} closing 1008",
               r.frames, r.bytes);
  boost::asio::post(sock_.get_executor(), [self = shared_from_this()] {
    self->start_close(1008, "slow consumer", close_kind::graceful, false);
  });
  return send_result::overflow;
}

void ws_session::write_queued(bool pace_due) {
  if (life_.finished() || write_in_flight_ || handshake_ || paced_)
    return; // on_write, on_accept or the pacing flushes again
  // A write this large is plenty per turn; the rest waits for the next one.
  static constexpr size_t max_write_bytes = 256 * 1024;
  // Control frames (pong, ping, close) are not paced, and take the queued
  // frames along.
  bool control = ping_due_ || (spill_ && (spill_->pong || !spill_->close_out.empty()));
  auto rate = ctx_.edge.pace_above;
  bool budget = control || pace_due || rate <= 0
                || pacer_.within_rate(rate, std::chrono::steady_clock::now());
  std::vector<frame> batch;
  // A paced stream's queue refills before its next write: storage for it,
  // taken here so that nothing is allocated under the lock.
  std::vector<frame> refill;
  if (pace_due)
    refill = batch_pool::take();
  size_t batch_bytes = 0;
  auto taken = queue_.take(budget, max_write_bytes, batch, refill, batch_bytes);
  if (refill.capacity() > 0) // not used: the queue kept its frames
    batch_pool::recycle(std::move(refill));
  if (taken == outbound_queue::take_result::idle)
    return;
  if (taken == outbound_queue::take_result::paced) {
    paced_ = true;
    node_metrics().conn_paced_writes.fetch_add(1, std::memory_order_relaxed);
    loop_.pace(shared_from_this());
    return;
  }
  bool more = taken == outbound_queue::take_result::part;
  if (!batch.empty() && rate > 0)
    pacer_.spend(rate, batch.size());
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
  bool last = has_close && life_.ends_with_our_close();
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
    batch_pool::recycle(std::move(frames));
    if (has_close) {
      std::string{}.swap(spill_->close_out);
      after_close_sent();
    }
  } else {
    auto& sp = spill();
    sp.pending_out.assign(out, written, std::string::npos);
    sp.in_flight = std::move(frames);
    sp.close_in_flight = has_close;
    write_in_flight_ = true;
    boost::asio::async_write(sock_, boost::asio::buffer(sp.pending_out),
                             [self = shared_from_this()](beast::error_code ec, size_t) {
                               self->on_write(ec);
                             });
  }
  if (!write_in_flight_)
    trim_spill();
  if (more && !write_in_flight_ && !life_.finished())
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
  if (sp.close_in_flight) {
    sp.close_in_flight = false;
    std::string{}.swap(sp.close_out);
    after_close_sent();
  }
  trim_spill();
  if (!life_.finished())
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
  queue_.note_written(frames.size(), bytes);
}

} // namespace tickgate::net
