#include "net/io_loop.hpp"

#include <boost/asio/post.hpp>

#include "net/ws_session.hpp"

namespace tickgate::net {

io_loop::io_loop(std::chrono::microseconds pace_interval)
  : ioc_(1),
    work_(boost::asio::make_work_guard(ioc_)),
    tick_timer_(ioc_),
    pacing_interval_(pace_interval),
    pacing_timer_(ioc_) {
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
  for (auto& s : flushing_)
    s->flush();
  flushing_.clear();
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
  for (auto& s : pacing_)
    s->paced_flush();
  pacing_.clear();
}

} // namespace tickgate::net
