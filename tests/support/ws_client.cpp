#include "support/ws_client.hpp"

#include <simdjson.h>

#include <stdexcept>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http.hpp>

namespace tickgate::test {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

ws_client::ws_client(uint16_t port, const std::string& path,
                     const std::string& subprotocol)
  : ws_(ioc_) {
  connect(port, path, subprotocol, {});
}

ws_client::ws_client(uint16_t port, const std::string& path, const http_header& header)
  : ws_(ioc_) {
  connect(port, path, "", header);
}

void ws_client::connect(uint16_t port, const std::string& path,
                        const std::string& subprotocol, const http_header& header) {
  beast::get_lowest_layer(ws_).connect(
    tcp::endpoint{boost::asio::ip::make_address("127.0.0.1"), port});
  ws_.set_option(websocket::stream_base::decorator(
    [subprotocol, header](websocket::request_type& req) {
      if (!subprotocol.empty())
        req.set(http::field::sec_websocket_protocol, subprotocol);
      if (!header.name.empty())
        req.set(header.name, header.value);
    }));
  ws_.read_message_max(64 * 1024 * 1024);
  websocket::response_type res;
  ws_.handshake(res, "127.0.0.1:" + std::to_string(port), path);
  selected_ = std::string{res[http::field::sec_websocket_protocol]};
}

ws_client::~ws_client() {
  beast::error_code ignored;
  beast::get_lowest_layer(ws_).socket().close(ignored);
}

void ws_client::send_text(const std::string& s) {
  ws_.text(true);
  ws_.write(boost::asio::buffer(s));
}

void ws_client::send_binary(const std::string& s) {
  ws_.binary(true);
  ws_.write(boost::asio::buffer(s));
}

std::optional<ws_message> ws_client::read(std::chrono::milliseconds timeout) {
  if (closed_)
    return std::nullopt;
  if (!read_pending_) {
    read_pending_ = true;
    read_done_ = false;
    ws_.async_read(buffer_, [this](beast::error_code ec, size_t) {
      read_done_ = true;
      read_ec_ = ec;
    });
  }
  // A read that times out stays pending; the next call continues it.
  ioc_.restart();
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!read_done_ && std::chrono::steady_clock::now() < deadline)
    ioc_.run_one_until(deadline);
  if (!read_done_)
    return std::nullopt;
  read_pending_ = false;
  if (read_ec_) {
    closed_ = true;
    close_code_ = ws_.reason().code;
    close_reason_ = std::string{ws_.reason().reason.c_str()};
    return std::nullopt;
  }
  ws_message m{beast::buffers_to_string(buffer_.data()), ws_.got_binary()};
  buffer_.consume(buffer_.size());
  return m;
}

void ws_client::close() {
  if (closed_)
    return;
  beast::error_code ec;
  ws_.close(websocket::close_code::normal, ec);
  closed_ = true;
}

http_result http_request(uint16_t port, const std::string& method,
                         const std::string& target, const std::string& body) {
  return http_request_with_header(port, method, target, "", "", body);
}

uint16_t free_port_for_test() {
  boost::asio::io_context ioc;
  tcp::acceptor a{ioc, {boost::asio::ip::make_address("127.0.0.1"), 0}};
  return a.local_endpoint().port();
}

http_result http_request_with_header(uint16_t port, const std::string& method,
                                     const std::string& target, const std::string& header,
                                     const std::string& value, const std::string& body) {
  boost::asio::io_context ioc;
  beast::tcp_stream stream{ioc};
  stream.connect(
    tcp::endpoint{boost::asio::ip::make_address("127.0.0.1"), port});
  http::request<http::string_body> req{http::string_to_verb(method), target, 11};
  req.set(http::field::host, "127.0.0.1");
  req.set(http::field::content_type, "application/json");
  if (!header.empty())
    req.set(header, value);
  req.body() = body;
  req.prepare_payload();
  http::write(stream, req);
  beast::flat_buffer buf;
  http::response_parser<http::string_body> parser;
  parser.skip(req.method() == http::verb::head); // HEAD: headers only
  beast::error_code ec;
  http::read(stream, buf, parser, ec);
  if (ec)
    throw std::runtime_error("http read failed: " + ec.message());
  auto res = parser.release();
  return {static_cast<int>(res.result_int()), res.body()};
}

int64_t node_stat(uint16_t port, const char* group, const char* key) {
  auto body = http_request(port, "GET", "/api/stats").body;
  simdjson::dom::parser parser;
  int64_t v = -1;
  if (parser.parse(body)[group][key].get(v))
    return -1;
  return v;
}

double metric_sample(const std::string& metrics_text, const std::string& series) {
  auto at = metrics_text.find("\n" + series + " ");
  if (at == std::string::npos)
    return -1;
  return std::stod(metrics_text.substr(at + series.size() + 2));
}

double node_metric(uint16_t port, const std::string& series) {
  return metric_sample(http_request(port, "GET", "/metrics").body, series);
}

} // namespace tickgate::test
