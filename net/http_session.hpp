#pragma once

#include <memory>
#include <optional>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "net/http_routes.hpp"
#include "net/io_loop.hpp"
#include "net/net_context.hpp"

namespace tickgate::net {

/// One HTTP connection: answers requests (keep-alive) until it sees a
/// WebSocket upgrade on a WebSocket path, then hands its socket to a
/// ws_session. All handlers run on the socket's strand.
class http_session : public std::enable_shared_from_this<http_session> {
public:
  /// Beast's stream on a loop_socket.
  using stream_type = boost::beast::basic_stream<boost::asio::ip::tcp,
                                                 boost::asio::io_context::executor_type>;

  http_session(loop_socket&& socket, const boost::asio::ip::tcp::endpoint& peer,
               net_context& ctx, io_loop& loop);

  void run();

private:
  void do_read();
  void on_read(boost::beast::error_code ec, size_t bytes);
  void send(http_response res);
  void admin(const http_request& req);        // /admin/...: asks the inspector
  void answer_admin(unsigned version, bool keep_alive, const std::string& json); // any thread
  void on_write(bool keep_alive, boost::beast::error_code ec, size_t bytes);
  std::string peer_address();
  void refuse_upgrade(const http_request& req, const admission::decision& d);

  stream_type stream_;
  boost::asio::ip::tcp::endpoint peer_; // as accept() reported it
  boost::beast::flat_buffer buffer_;
  net_context& ctx_;
  io_loop& loop_; // owns the socket; an upgraded session stays on it
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  std::shared_ptr<http_response> res_; // the response being written
};

} // namespace tickgate::net
