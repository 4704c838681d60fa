#include "net/http_session.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <spdlog/spdlog.h>

#include "net/ws_session.hpp"

namespace tickgate::net {

namespace beast = boost::beast;
namespace http = beast::http;

http_session::http_session(boost::asio::ip::tcp::socket&& socket,
                           net_context& ctx)
  : stream_(std::move(socket)), ctx_(ctx) {
}

void http_session::run() {
  boost::asio::dispatch(stream_.get_executor(),
                        [self = shared_from_this()] { self->do_read(); });
}

void http_session::do_read() {
  parser_.emplace();
  parser_->body_limit(ctx_.edge.max_http_body_bytes);
  parser_->header_limit(16 * 1024);
  stream_.expires_after(ctx_.edge.handshake_timeout);
  http::async_read(stream_, buffer_, *parser_,
                   [self = shared_from_this()](beast::error_code ec, size_t n) {
                     self->on_read(ec, n);
                   });
}

void http_session::on_read(beast::error_code ec, size_t) {
  if (ec == http::error::end_of_stream || ec == beast::error::timeout
      || ec == boost::asio::error::eof) {
    beast::error_code ignored;
    stream_.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_send, ignored);
    return;
  }
  if (ec == http::error::body_limit) {
    http_request head;
    head.version(11);
    auto res = error_response(head, http::status::payload_too_large,
                              "body larger than "
                                + std::to_string(ctx_.edge.max_http_body_bytes)
                                + " bytes");
    res.keep_alive(false);
    send(std::move(res));
    return;
  }
  if (ec) {
    spdlog::debug("http.read_failed error={}", ec.message());
    if (ec.category() == http::make_error_code(http::error::bad_target).category()) {
      http_request head;
      head.version(11);
      auto res = error_response(head, http::status::bad_request,
                                "malformed HTTP request");
      res.keep_alive(false);
      send(std::move(res));
    }
    return;
  }
  auto req = parser_->release();
  if (beast::websocket::is_upgrade(req)) {
    auto* dialect = ctx_.edge.dialect_at(target_path(req.target()));
    if (!dialect) {
      send(error_response(req, http::status::not_found,
                          "no WebSocket endpoint at this path"));
      return;
    }
    if (*dialect == "socketio") {
      if (auto problem = socketio_handshake_problem(req.target())) {
        send(socketio_error_response(req, *problem));
        return;
      }
    }
    stream_.expires_never();
    std::make_shared<ws_session>(stream_.release_socket(), ctx_, *dialect)
      ->run(std::move(req));
    return;
  }
  send(handle_http(ctx_, req));
}

void http_session::send(http_response res) {
  res_ = std::make_shared<http_response>(std::move(res));
  bool keep_alive = res_->keep_alive();
  http::async_write(stream_, *res_,
                    [self = shared_from_this(), keep_alive](
                      beast::error_code ec, size_t n) {
                      self->on_write(keep_alive, ec, n);
                    });
}

void http_session::on_write(bool keep_alive, beast::error_code ec, size_t) {
  res_.reset();
  if (ec)
    return;
  if (!keep_alive) {
    beast::error_code ignored;
    stream_.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_send, ignored);
    return;
  }
  do_read();
}

} // namespace tickgate::net
