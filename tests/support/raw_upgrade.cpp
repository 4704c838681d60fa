#include "support/raw_upgrade.hpp"

#include <poll.h>

#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace tickgate::test {

namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;

upgrade_result upgrade(boost::asio::io_context& ioc, uint16_t port,
                       const std::string& origin, int receive_buffer,
                       const std::string& path) {
  auto s = std::make_unique<tcp::socket>(ioc);
  s->open(tcp::v4());
  if (receive_buffer > 0)
    s->set_option(boost::asio::socket_base::receive_buffer_size(receive_buffer));
  s->connect({boost::asio::ip::make_address("127.0.0.1"), port});
  std::string req = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                    "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                    "Sec-WebSocket-Version: 13\r\n";
  if (!origin.empty())
    req += "Origin: " + origin + "\r\n";
  req += "\r\n";
  boost::asio::write(*s, boost::asio::buffer(req));
  boost::beast::flat_buffer buf;
  http::response_parser<http::string_body> parser;
  parser.skip(false);
  boost::beast::error_code ec;
  http::read_header(*s, buf, parser, ec);
  upgrade_result r;
  if (ec)
    return r;
  r.status = static_cast<int>(parser.get().result_int());
  r.retry_after = std::string{parser.get()[http::field::retry_after]};
  if (r.status == 101) {
    r.socket = std::move(s);
    return r;
  }
  http::read(*s, buf, parser, ec);
  r.body = parser.get().body();
  return r;
}

std::string client_frame(const std::string& text) {
  std::string f{"\x81", 1};
  if (text.size() < 126) {
    f.push_back(static_cast<char>(0x80 | text.size()));
  } else {
    f.push_back(static_cast<char>(0x80 | 126));
    f.push_back(static_cast<char>(text.size() >> 8));
    f.push_back(static_cast<char>(text.size() & 0xFF));
  }
  f.append(4, '\0');
  return f + text;
}

std::optional<frame_reader::server_frame> frame_reader::read(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (auto f = parse())
      return f;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0)
      return std::nullopt;
    pollfd p{socket_.native_handle(), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0)
      return std::nullopt;
    char buf[64 * 1024];
    boost::system::error_code ec;
    auto n = socket_.read_some(boost::asio::buffer(buf), ec);
    if (ec)
      return std::nullopt;
    in_.append(buf, n);
  }
}

// One complete unmasked, unfragmented server frame from the front of in_.
std::optional<frame_reader::server_frame> frame_reader::parse() {
  if (in_.size() < 2)
    return std::nullopt;
  size_t len = static_cast<uint8_t>(in_[1]) & 0x7F;
  size_t h = 2;
  if (len >= 126) {
    size_t ext = len == 126 ? 2 : 8;
    if (in_.size() < 2 + ext)
      return std::nullopt;
    len = 0;
    for (size_t i = 0; i < ext; ++i)
      len = (len << 8) | static_cast<uint8_t>(in_[2 + i]);
    h += ext;
  }
  if (in_.size() < h + len)
    return std::nullopt;
  server_frame f{static_cast<uint8_t>(in_[0] & 0x0F), in_.substr(h, len)};
  in_.erase(0, h + len);
  return f;
}

} // namespace tickgate::test
