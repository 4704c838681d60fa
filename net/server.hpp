#pragma once

#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "net/net_context.hpp"

namespace tickgate::net {

/// The node's edge: one listener for HTTP and WebSocket on
/// edge_settings::host/port, served by edge_settings::io_threads threads.
class server {
public:
  explicit server(net_context& ctx);
  ~server();

  /// Binds, listens and starts the I/O threads. Throws on bind failure.
  void start();

  /// The bound port (useful with port 0).
  uint16_t port() const { return port_; }

  boost::asio::io_context& io_context() { return ioc_; }

  /// Stops accepting, closes every WebSocket client with 1001 and waits up to
  /// `grace` for the close handshakes, then stops the I/O threads.
  void shutdown(std::chrono::milliseconds grace);

private:
  void do_accept();

  net_context& ctx_;
  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer accept_retry_; // after an accept error (e.g. EMFILE)
  std::chrono::steady_clock::time_point last_accept_error_log_;
  std::vector<std::thread> threads_;
  uint16_t port_ = 0;
  bool stopped_ = false;
};

} // namespace tickgate::net
