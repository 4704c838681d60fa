#pragma once

#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "net/io_loop.hpp"
#include "net/net_context.hpp"

namespace tickgate::net {

/// The node's edge: one listener for HTTP and WebSocket on
/// edge_settings::host/port, served by edge_settings::io_threads loops (one
/// thread each); connections are spread over the loops round-robin.
class server {
public:
  explicit server(net_context& ctx);
  ~server();

  /// Binds, listens and starts the I/O threads. Throws on bind failure.
  void start();

  /// The bound port (useful with port 0).
  uint16_t port() const { return port_; }

  /// The first loop's context (signals, timers of the node).
  boost::asio::io_context& io_context() { return loops_.front()->context(); }

  /// Stops accepting, closes every WebSocket client with 1001 and waits up to
  /// `grace` for the close handshakes, then stops the I/O threads.
  void shutdown(std::chrono::milliseconds grace);

private:
  void do_accept();

  net_context& ctx_;
  std::vector<std::unique_ptr<io_loop>> loops_;
  size_t next_loop_ = 0;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer accept_retry_; // after an accept error (e.g. EMFILE)
  boost::asio::ip::tcp::endpoint accept_peer_; // filled by accept() itself: no getpeername
  std::chrono::steady_clock::time_point last_accept_error_log_;
  std::vector<std::thread> threads_;
  uint16_t port_ = 0;
  bool stopped_ = false;
};

} // namespace tickgate::net
