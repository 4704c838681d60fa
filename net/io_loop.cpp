#include "net/io_loop.hpp"

#include <boost/asio/post.hpp>

#include "actors/metrics.hpp"
#include "net/ws_session.hpp"

namespace tickgate::net {

io_loop::io_loop(std::chrono::microseconds pace_interval, unsigned send_batch)
  : ioc_(1),
    work_(boost::asio::make_work_guard(ioc_)),
    tick_timer_(ioc_),
    pacing_interval_(pace_interval),
    pacing_timer_(ioc_),
    batch_(send_batch) {
  arm_tick();
}

void io_loop::add(ws_session* s) {
  s->loop_slot_ = sessions_.size();
  sessions_.push_back(s);
}

void io_loop::remove(ws_session* s) {
  auto slot = s->loop_slot_;
  if (slot >= sessions_.size() || sessions_[slot] != s)
    return;
  sessions_[slot] = sessions_.back();
  sessions_[slot]->loop_slot_ = slot;
  sessions_.pop_back();
}

void io_loop::arm_tick() {
  tick_timer_.expires_after(tick_interval);
  tick_timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec)
      on_tick();
  });
}

void io_loop::on_tick() {
  auto now = std::chrono::steady_clock::now();
  // Backwards: a session that ends here swaps in one already ticked.
  for (size_t i = sessions_.size(); i-- > 0;)
    if (i < sessions_.size())
      sessions_[i]->tick(now);
  arm_tick();
}

void io_loop::request_flush(std::shared_ptr<ws_session> s) {
  std::lock_guard<std::mutex> guard{mtx_};
  dirty_.push_back(std::move(s));
  if (posted_)
    return;
  posted_ = true;
  boost::asio::post(ioc_, [this] { run_flush(); });
}

void io_loop::run_flush() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    flushing_.swap(dirty_);
    posted_ = false;
  }
  flush_all(flushing_, &ws_session::flush);
}

void io_loop::pace(std::shared_ptr<ws_session> s) {
  paced_.push_back(std::move(s));
  if (paced_.size() > 1)
    return; // the timer is set
  pacing_timer_.expires_after(pacing_interval_);
  pacing_timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec)
      on_pacing();
  });
}

void io_loop::on_pacing() {
  // A session still over its rate re-enters paced_ for the next interval.
  pacing_.swap(paced_);
  flush_all(pacing_, &ws_session::paced_flush);
}

void io_loop::flush_all(std::vector<std::shared_ptr<ws_session>>& sessions,
                        void (ws_session::*flush)()) {
  collecting_ = batch_.batching();
  for (auto& s : sessions) {
    ((*s).*flush)();
    if (queued_ == batch_.max_batch()) {
      send_writes();
      collecting_ = batch_.batching();
    }
  }
  sessions.clear();
  send_writes();
}

io_loop::queued_write* io_loop::queue_write() {
  if (!collecting_ || queued_ == batch_.max_batch())
    return nullptr;
  if (queued_ == writes_.size())
    writes_.emplace_back();
  return &writes_[queued_++];
}

void io_loop::send_writes() {
  collecting_ = false; // what the results set off sends at once
  if (queued_ == 0)
    return;
  auto n = queued_;
  queued_ = 0;
  requests_.resize(n);
  results_.resize(n);
  for (size_t i = 0; i < n; ++i) {
    auto& w = writes_[i];
    // A session that ended has closed its socket, and its handle is -1
    // (EBADF alone), never a descriptor reused by another connection.
    requests_[i] = send_batch::request{w.session->sock_.native_handle(), w.bytes.data(),
                                       w.bytes.size(), w.flags};
  }
  if (auto together = batch_.send_all(requests_, results_))
    node_metrics().conn_batched_writes.fetch_add(together, std::memory_order_relaxed);
  for (size_t i = 0; i < n; ++i) {
    auto& w = writes_[i];
    auto session = std::move(w.session);
    session->write_sent(w, results_[i]);
    w.frames.clear();
    // Kept for later passes, up to max_queued_write each (a loop keeps at
    // most max_batch of them: 4 MiB).
    if (w.bytes.capacity() > max_queued_write)
      std::string{}.swap(w.bytes);
  }
}

} // namespace tickgate::net
