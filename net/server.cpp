#include "net/server.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <spdlog/spdlog.h>

#include "actors/scheduler.hpp"
#include "net/engineio_polling.hpp"
#include "net/http_session.hpp"
#include "net/ws_session.hpp"

namespace tickgate::net {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

std::vector<std::unique_ptr<io_loop>> make_loops(const edge_settings& edge) {
  std::vector<std::unique_ptr<io_loop>> loops;
  for (int i = 0; i < std::max(1, edge.io_threads); ++i)
    loops.push_back(std::make_unique<io_loop>(edge.pace_interval, edge.send_batch));
  return loops;
}

} // namespace

server::server(net_context& ctx)
  : ctx_(ctx),
    loops_(make_loops(ctx.edge)),
    acceptor_(loops_.front()->context()),
    accept_retry_(acceptor_.get_executor()) {
  ctx_.polling = std::make_shared<engineio_registry>(ctx_, loops_.front()->context());
}

server::~server() {
  shutdown(std::chrono::milliseconds{0});
}

void server::start() {
  auto addr = asio::ip::make_address(ctx_.edge.host);
  tcp::endpoint ep{addr, ctx_.edge.port};
  acceptor_.open(ep.protocol());
  acceptor_.set_option(asio::socket_base::reuse_address(true));
  // Linux copies TCP_NODELAY from the listener to every accepted socket: one
  // setsockopt here instead of one per connection.
  acceptor_.set_option(tcp::no_delay(true));
  acceptor_.bind(ep);
  acceptor_.listen(asio::socket_base::max_listen_connections);
  port_ = acceptor_.local_endpoint().port();
  do_accept();
  for (auto& loop : loops_)
    threads_.emplace_back([l = loop.get(), &sys = ctx_.system, jobs = ctx_.edge.io_actor_jobs] {
      // Actors this loop's sessions make runnable run here, or wake a worker,
      // once per pass over the ready handlers, not once each
      // (actors/scheduler.hpp).
      hold_worker_wakes(
        sys, [l] { boost::asio::post(l->context(), [] { wake_held_workers(); }); }, jobs);
      l->context().run();
      stop_holding_worker_wakes();
    });
}

void server::do_accept() {
  auto& loop = *loops_[next_loop_];
  acceptor_.async_accept(
    loop.context().get_executor(), accept_peer_, [this, &loop](boost::system::error_code ec, loop_socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open())
        return;
      if (ec) {
        // Out of descriptors and similar: pause before accepting again, or
        // the failing accept spins; log at most once per second.
        auto now = std::chrono::steady_clock::now();
        if (now - last_accept_error_log_ >= std::chrono::seconds(1)) {
          spdlog::warn("net.accept_failed error={} retrying_in_ms=100", ec.message());
          last_accept_error_log_ = now;
        }
        accept_retry_.expires_after(std::chrono::milliseconds(100));
        accept_retry_.async_wait([this](boost::system::error_code wait_ec) {
          if (!wait_ec)
            do_accept();
        });
        return;
      }
      std::make_shared<http_session>(std::move(socket), accept_peer_, ctx_, loop)->run();
      next_loop_ = (next_loop_ + 1) % loops_.size();
      do_accept();
    });
}

void server::shutdown(std::chrono::milliseconds grace) {
  if (stopped_)
    return;
  stopped_ = true;
  asio::post(acceptor_.get_executor(), [this] {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    accept_retry_.cancel();
  });
  {
    std::lock_guard<std::mutex> guard{ctx_.sessions_mtx};
    ctx_.shutting_down = true;
    for (auto* s : ctx_.sessions)
      s->close(1001, "server shutting down");
  }
  ctx_.polling->close_all(); // a waiting GET gets the close packet
  auto deadline = std::chrono::steady_clock::now() + grace;
  while (std::chrono::steady_clock::now() < deadline) {
    {
      std::lock_guard<std::mutex> guard{ctx_.sessions_mtx};
      if (ctx_.sessions.empty())
        break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  for (auto& loop : loops_)
    loop->context().stop();
  for (auto& t : threads_)
    if (t.joinable())
      t.join();
  threads_.clear();
  ctx_.polling->stop();
  // Clients that did not finish the close handshake in time: end them here
  // (the I/O threads are gone, so nothing else touches them).
  std::vector<std::shared_ptr<ws_session>> left;
  {
    std::lock_guard<std::mutex> guard{ctx_.sessions_mtx};
    for (auto* s : ctx_.sessions)
      left.push_back(s->shared_from_this());
  }
  for (auto& s : left)
    s->abort();
}

} // namespace tickgate::net
