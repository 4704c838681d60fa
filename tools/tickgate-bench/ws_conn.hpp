#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/ip/tcp.hpp>

namespace tickgate::bench {

/// A lean WebSocket client for load generation: raw Asio, a read buffer
/// (64 KiB unless told otherwise) parsed for as many frames as each read
/// brings, masked client frames,
/// pings answered. Runs on one io_context thread (no strand needed).
class ws_conn : public std::enable_shared_from_this<ws_conn> {
public:
  struct handlers {
    std::function<void(ws_conn&)> on_open;              // handshake done
    std::function<void(ws_conn&, std::string_view)> on_text;
    std::function<void(ws_conn&, bool clean)> on_close; // connection ended
  };

  /// `buffer_bytes`: the read buffer to start with (it grows for a larger
  /// frame). Subscribers under load want many frames per read; a churn
  /// client reads three small frames and is gone.
  ws_conn(boost::asio::io_context& ioc, handlers h, size_t buffer_bytes = 64 * 1024);

  void start(const boost::asio::ip::tcp::endpoint& ep, std::string host, std::string path);
  void send_text(std::string_view payload);
  void close(); // close frame, then the socket

  uint64_t user = 0; // the scenario's tag (here: index of the thread it runs on)

private:
  void on_connect(const boost::system::error_code& ec);
  void read_handshake();
  void read_frames();
  void parse();
  void send_frame(uint8_t opcode, std::string_view payload);
  void flush();
  void fail(bool clean);

  boost::asio::ip::tcp::socket sock_;
  handlers h_;
  std::string host_, path_;
  // The read buffer, not zeroed: only bytes the socket wrote are read.
  struct read_buffer {
    std::unique_ptr<char[]> bytes;
    size_t capacity = 0;
    char* data() { return bytes.get(); }
    size_t size() const { return capacity; }
    void resize(size_t n, size_t keep); // keeps the first `keep` bytes
  };
  read_buffer buf_;
  size_t have_ = 0;
  std::string out_, writing_; // pending bytes / bytes being written
  bool write_in_flight_ = false;
  bool open_ = false;
  bool closed_ = false;
};

} // namespace tickgate::bench
