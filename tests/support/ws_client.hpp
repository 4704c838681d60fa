#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

namespace tickgate::test {

/// A received WebSocket message.
struct ws_message {
  std::string data;
  bool binary = false;
};

/// One extra header of the WebSocket handshake request.
struct http_header {
  std::string name;
  std::string value;
};

/// A blocking WebSocket client for tests: every wait has a deadline, so a
/// test fails instead of hanging.
class ws_client {
public:
  /// Connects to ws://127.0.0.1:port{path}, offering `subprotocol` if set.
  ws_client(uint16_t port, const std::string& path = "/v1",
            const std::string& subprotocol = "");
  /// Connects sending `header` with the handshake (e.g. Authorization).
  ws_client(uint16_t port, const std::string& path, const http_header& header);
  ~ws_client();

  void send_text(const std::string& s);
  void send_binary(const std::string& s);

  /// The next message, or nullopt if none arrives within `timeout` or the
  /// connection closed (then closed() is true).
  std::optional<ws_message> read(std::chrono::milliseconds timeout
                                 = std::chrono::milliseconds(5000));

  /// Reads until a message satisfies `pred`, skipping others; nullopt on timeout.
  template <class Pred>
  std::optional<ws_message> read_until(Pred pred,
                                       std::chrono::milliseconds timeout
                                       = std::chrono::milliseconds(5000)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0)
        return std::nullopt;
      auto m = read(left);
      if (!m)
        return std::nullopt;
      if (pred(*m))
        return m;
    }
  }

  /// True once the server closed the connection; close_code() tells how.
  bool closed() const { return closed_; }
  uint16_t close_code() const { return close_code_; }
  std::string close_reason() const { return close_reason_; }

  /// Subprotocol the server selected.
  std::string selected_subprotocol() const { return selected_; }

  /// Sends a close frame and waits for the server's.
  void close();

private:
  void connect(uint16_t port, const std::string& path, const std::string& subprotocol,
               const http_header& header);

  boost::asio::io_context ioc_;
  boost::beast::websocket::stream<boost::beast::tcp_stream> ws_;
  boost::beast::flat_buffer buffer_;
  bool closed_ = false;
  uint16_t close_code_ = 0;
  std::string close_reason_;
  std::string selected_;
  bool read_pending_ = false;
  bool read_done_ = false;
  boost::beast::error_code read_ec_;
};

/// Result of a plain HTTP request.
struct http_result {
  int status = 0;
  std::string body;
};

http_result http_request(uint16_t port, const std::string& method,
                         const std::string& target,
                         const std::string& body = "");

/// Counter `group`.`key` of the node's GET /api/stats, or -1 if absent.
int64_t node_stat(uint16_t port, const char* group, const char* key);

/// The same with one extra request header.
http_result http_request_with_header(uint16_t port, const std::string& method,
                                     const std::string& target, const std::string& header,
                                     const std::string& value, const std::string& body = "");

/// A loopback port nothing listens on (bound, then released).
uint16_t free_port_for_test();

/// The value of one Prometheus sample (`series` is the name with its
/// labels, e.g. `tickgate_errors_total{code="bad_frame"}`) in a /metrics
/// text, or -1 when the text has no such sample.
double metric_sample(const std::string& metrics_text, const std::string& series);

/// metric_sample of GET /metrics of the node at `port`.
double node_metric(uint16_t port, const std::string& series);

} // namespace tickgate::test
