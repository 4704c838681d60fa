#include "support/raw_upgrade.hpp"

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


} // namespace tickgate::test
