#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace tickgate::test {

/// A WebSocket upgrade sent by hand, so a test can set any header, see a
/// refusal's status and body, and keep the raw socket of an accepted one.
struct upgrade_result {
  int status = 0;       // 0: no HTTP answer
  std::string body;
  std::string retry_after;
  std::unique_ptr<boost::asio::ip::tcp::socket> socket; // open after a 101
};

/// Sends a WebSocket upgrade for `path` to 127.0.0.1:port, with an Origin
/// header if `origin` is set and a small receive buffer if `receive_buffer` > 0.
upgrade_result upgrade(boost::asio::io_context& ioc, uint16_t port,
                       const std::string& origin = "", int receive_buffer = 0,
                       const std::string& path = "/v1");

/// One masked client text frame (mask key 0 leaves the payload as is).
std::string client_frame(const std::string& text);

/// Reads the server's frames from the raw socket of an accepted upgrade,
/// each read with a deadline, so a test can stop reading for a while and
/// then see everything the node sent meanwhile.
class frame_reader {
public:
  struct server_frame {
    uint8_t opcode = 0; // 0x1 text, 0x2 binary, 0x8 close, ...
    std::string payload;
  };

  explicit frame_reader(boost::asio::ip::tcp::socket& socket) : socket_(socket) {
  }

  /// The next frame, or nullopt if none is complete within `timeout` or
  /// the connection ended.
  std::optional<server_frame> read(std::chrono::milliseconds timeout);

private:
  std::optional<server_frame> parse();

  boost::asio::ip::tcp::socket& socket_;
  std::string in_;
};

} // namespace tickgate::test
