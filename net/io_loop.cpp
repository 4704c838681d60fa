#include "net/io_loop.hpp"

#include <boost/asio/post.hpp>

#include "net/ws_session.hpp"

namespace tickgate::net {

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

} // namespace tickgate::net
