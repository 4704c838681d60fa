#include "tools/tickgate-bench/ws_conn.hpp"

#include <algorithm>
#include <cstring>

#include <boost/asio/write.hpp>

namespace tickgate::bench {

namespace asio = boost::asio;

ws_conn::ws_conn(asio::io_context& ioc, handlers h, size_t buffer_bytes)
  : sock_(ioc), h_(std::move(h)) {
  buf_.resize(std::max<size_t>(buffer_bytes, 512), 0);
}

void ws_conn::read_buffer::resize(size_t n, size_t keep) {
  std::unique_ptr<char[]> grown{new char[n]};
  if (keep > 0)
    std::memcpy(grown.get(), bytes.get(), keep);
  bytes = std::move(grown);
  capacity = n;
}

void ws_conn::start(const asio::ip::tcp::endpoint& ep, std::string host, std::string path) {
  host_ = std::move(host);
  path_ = std::move(path);
  sock_.async_connect(ep, [self = shared_from_this()](const boost::system::error_code& ec) {
    self->on_connect(ec);
  });
}

void ws_conn::on_connect(const boost::system::error_code& ec) {
  if (ec) {
    fail(false);
    return;
  }
  // No TCP_NODELAY: the client writes only after the server answered (upgrade,
  // subscribe, pong, close), so Nagle never holds a write back.
  out_ = "GET " + path_ + " HTTP/1.1\r\nHost: " + host_
         + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
  flush();
  read_handshake();
}

void ws_conn::read_handshake() {
  sock_.async_read_some(asio::buffer(buf_.data() + have_, buf_.size() - have_),
                        [self = shared_from_this()](const boost::system::error_code& ec,
                                                    size_t n) {
                          if (ec) {
                            self->fail(false);
                            return;
                          }
                          self->have_ += n;
                          std::string_view got{self->buf_.data(), self->have_};
                          auto end = got.find("\r\n\r\n");
                          if (end == std::string_view::npos) {
                            if (self->have_ == self->buf_.size())
                              self->fail(false);
                            else
                              self->read_handshake();
                            return;
                          }
                          if (got.substr(0, 12) != "HTTP/1.1 101") {
                            self->fail(false);
                            return;
                          }
                          // Frames may follow the response in the same read.
                          auto rest = self->have_ - (end + 4);
                          std::memmove(self->buf_.data(), self->buf_.data() + end + 4, rest);
                          self->have_ = rest;
                          self->open_ = true;
                          if (self->h_.on_open)
                            self->h_.on_open(*self);
                          self->parse();
                          self->read_frames();
                        });
}

void ws_conn::read_frames() {
  if (closed_)
    return;
  if (have_ == buf_.size())
    buf_.resize(buf_.size() * 2, have_); // a frame larger than the buffer
  sock_.async_read_some(asio::buffer(buf_.data() + have_, buf_.size() - have_),
                        [self = shared_from_this()](const boost::system::error_code& ec,
                                                    size_t n) {
                          if (ec) {
                            self->fail(false);
                            return;
                          }
                          self->have_ += n;
                          self->parse();
                          self->read_frames();
                        });
}

// Server frames are unmasked: 2-byte header, 16/64-bit extended lengths.
void ws_conn::parse() {
  size_t pos = 0;
  auto* p = reinterpret_cast<const uint8_t*>(buf_.data());
  while (!closed_ && have_ - pos >= 2) {
    uint8_t opcode = p[pos] & 0x0F;
    uint64_t len = p[pos + 1] & 0x7F;
    size_t header = 2;
    if (len == 126) {
      if (have_ - pos < 4)
        break;
      len = (uint64_t{p[pos + 2]} << 8) | p[pos + 3];
      header = 4;
    } else if (len == 127) {
      if (have_ - pos < 10)
        break;
      len = 0;
      for (int i = 0; i < 8; ++i)
        len = (len << 8) | p[pos + 2 + i];
      header = 10;
    }
    if (have_ - pos < header + len) {
      if (header + len > buf_.size())
        buf_.resize(header + len + 1024, have_);
      break;
    }
    std::string_view payload{buf_.data() + pos + header, static_cast<size_t>(len)};
    if (opcode == 0x1 || opcode == 0x2 || opcode == 0x0) {
      if (h_.on_text)
        h_.on_text(*this, payload);
    } else if (opcode == 0x9) {
      send_frame(0xA, payload); // pong
    } else if (opcode == 0x8) {
      closed_ = true;
      boost::system::error_code ignored;
      sock_.close(ignored);
      if (h_.on_close)
        h_.on_close(*this, true);
      return;
    }
    pos += header + len;
    p = reinterpret_cast<const uint8_t*>(buf_.data()); // buf_ may have grown
  }
  if (pos > 0) {
    std::memmove(buf_.data(), buf_.data() + pos, have_ - pos);
    have_ -= pos;
  }
}

void ws_conn::send_text(std::string_view payload) {
  send_frame(0x1, payload);
}

void ws_conn::close() {
  if (closed_)
    return;
  send_frame(0x8, std::string_view{"\x03\xe8", 2});
  closed_ = true;
  auto self = shared_from_this();
  // Give the close frame to the socket, then end (close() sends it, then FIN).
  asio::post(sock_.get_executor(), [self] {
    boost::system::error_code ignored;
    self->sock_.close(ignored);
    if (self->h_.on_close)
      self->h_.on_close(*self, true);
  });
}

// Client frames must be masked; a zero key leaves the payload as it is.
void ws_conn::send_frame(uint8_t opcode, std::string_view payload) {
  out_.push_back(static_cast<char>(0x80 | opcode));
  if (payload.size() < 126) {
    out_.push_back(static_cast<char>(0x80 | payload.size()));
  } else {
    out_.push_back(static_cast<char>(0x80 | 126));
    out_.push_back(static_cast<char>(payload.size() >> 8));
    out_.push_back(static_cast<char>(payload.size() & 0xFF));
  }
  out_.append(4, '\0');
  out_.append(payload);
  flush();
}

void ws_conn::flush() {
  if (write_in_flight_ || out_.empty())
    return;
  write_in_flight_ = true;
  writing_.swap(out_);
  out_.clear();
  asio::async_write(sock_, asio::buffer(writing_),
                    [self = shared_from_this()](const boost::system::error_code& ec, size_t) {
                      self->write_in_flight_ = false;
                      self->writing_.clear();
                      if (ec) {
                        self->fail(false);
                        return;
                      }
                      self->flush();
                    });
}

void ws_conn::fail(bool clean) {
  if (closed_ && !open_)
    return;
  bool was_closed = closed_;
  closed_ = true;
  boost::system::error_code ignored;
  sock_.close(ignored);
  if (!was_closed && h_.on_close)
    h_.on_close(*this, clean);
  open_ = false;
}

} // namespace tickgate::bench
