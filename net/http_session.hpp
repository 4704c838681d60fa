#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "net/http_history.hpp"
#include "net/http_routes.hpp"
#include "net/io_loop.hpp"
#include "net/net_context.hpp"

namespace tickgate::net {

/// One HTTP connection: answers requests (keep-alive) until it sees a
/// WebSocket upgrade on a WebSocket path, then hands its socket to a
/// ws_session. All handlers run on the socket's loop thread.
///
/// Reading: the request is read with plain non-blocking reads into a
/// per-thread buffer and given to Beast's parser; only bytes the parser has
/// not taken yet (an incomplete header, a pipelined request) are kept in the
/// session. A request that has fully arrived when the connection is accepted
/// (the usual case for a WebSocket client) costs one read and no timer.
///
/// Deadline: a request and its response each get handshake_timeout. The
/// timer exists only once the session has to wait for the client; when it
/// fires while the session waits, the connection is closed.
class http_session : public std::enable_shared_from_this<http_session> {
public:
  http_session(loop_socket&& socket, const boost::asio::ip::tcp::endpoint& peer,
               net_context& ctx, io_loop& loop);

  void run();

private:
  void start_request();
  void read_more();
  bool feed(const char* data, size_t size); // true: the request is complete or failed
  void on_request(boost::beast::error_code ec);
  void wait_readable();
  void arm_deadline();
  void on_deadline(boost::beast::error_code ec);
  void end(); // no more requests: stop sending, the client closes
  void send(http_response res);
  void admin(const http_request& req, const std::string& command); // /admin/<command>: asks the inspector
  void answer_admin(unsigned version, bool keep_alive, const std::string& json); // any thread
  // Why `req` may not run an admin command (nullopt: it may).
  std::optional<std::string> admin_denial(const http_request& req);
  // /api/snapshot, /api/history, /api/market/snapshot: asks the router
  void retained(const http_request& req, history_endpoint endpoint);
  // Writes a JSON answer made on another thread (an actor's reply).
  void answer(unsigned version, bool keep_alive, boost::beast::http::status status,
              std::string json); // any thread
  void on_write(bool keep_alive, boost::beast::error_code ec, size_t bytes);
  std::string peer_address();
  void refuse_upgrade(const http_request& req, const admission::decision& d);

  loop_socket sock_;
  boost::asio::ip::tcp::endpoint peer_; // as accept() reported it
  net_context& ctx_;
  io_loop& loop_; // owns the socket; an upgraded session stays on it
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  static constexpr size_t max_header_bytes = 16 * 1024;
  // Received bytes the parser has not taken yet; more than this is refused.
  static constexpr size_t max_pending_bytes = 2 * max_header_bytes;
  std::string pending_;
  std::shared_ptr<http_response> res_; // the response being written
  std::chrono::steady_clock::time_point deadline_;  // of the current request or response
  std::optional<boost::asio::steady_timer> timer_; // made when the session first waits
  bool timer_armed_ = false;
  bool waiting_ = false; // an async wait or write on the socket is pending
};

} // namespace tickgate::net
