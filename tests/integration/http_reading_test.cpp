// How the node reads HTTP requests off a connection, against the real binary:
// requests that arrive in pieces, pipelined requests, frames sent right
// behind the upgrade request, and clients that stop half-way.

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>

#include <linux/sockios.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include "support/json_fields.hpp"
#include "support/node_process.hpp"
#include "support/raw_upgrade.hpp"
#include "support/ws_client.hpp"

using namespace std::chrono_literals;
using namespace tickgate::test;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

const std::string upgrade_head = "GET /v1 HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                                 "Connection: Upgrade\r\nSec-WebSocket-Key: "
                                 "dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

// A plain TCP client whose reads and writes give up after `patience`.
struct raw_client {
  asio::io_context ioc;
  tcp::socket sock{ioc};

  uint16_t node_port;

  raw_client(uint16_t port, std::chrono::milliseconds patience = 5000ms) : node_port(port) {
    sock.connect({asio::ip::make_address("127.0.0.1"), port});
    // Each write leaves at once as segments of its own.
    int one = 1;
    ::setsockopt(sock.native_handle(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    timeval tv{};
    tv.tv_sec = patience.count() / 1000;
    tv.tv_usec = (patience.count() % 1000) * 1000;
    ::setsockopt(sock.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(sock.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  }

  // Plain send/recv on the descriptor, so the timeouts above apply (asio's
  // blocking calls would wait in poll() past them).
  void write(const std::string& bytes, boost::system::error_code& ec) {
    size_t from = 0;
    while (from < bytes.size()) {
      auto n = ::send(sock.native_handle(), bytes.data() + from, bytes.size() - from,
                      MSG_NOSIGNAL);
      if (n < 0) {
        ec.assign(errno, boost::system::system_category());
        return;
      }
      from += static_cast<size_t>(n);
    }
  }

  void write(const std::string& bytes) {
    boost::system::error_code ec;
    write(bytes, ec);
    ASSERT_FALSE(ec) << ec.message();
  }

  // Reads until `done(received)` holds, the node closes (eof), a reset, or
  // patience runs out (would_block).
  template <class Done>
  std::string read_until(Done done, boost::system::error_code& ec) {
    std::string in;
    char buf[4096];
    while (!done(in)) {
      auto n = ::recv(sock.native_handle(), buf, sizeof buf, 0);
      if (n == 0) {
        ec = asio::error::eof;
        break;
      }
      if (n < 0) {
        ec.assign(errno, boost::system::system_category());
        break;
      }
      in.append(buf, static_cast<size_t>(n));
    }
    return in;
  }

  // Bytes written but not yet acknowledged by the node's kernel.
  int unacknowledged() {
    int n = -1;
    ::ioctl(sock.native_handle(), SIOCOUTQ, &n);
    return n;
  }

  // Bytes the node's kernel holds for the node's socket of this connection
  // that the node has not read yet (/proc/net/tcp); -1 if not found.
  long unread_by_node() {
    auto mine = sock.local_endpoint().port();
    std::ifstream in{"/proc/net/tcp"};
    std::string line;
    std::getline(in, line); // header
    while (std::getline(in, line)) {
      unsigned local_addr, local_port, remote_addr, remote_port, state;
      unsigned long tx, rx;
      if (std::sscanf(line.c_str(), " %*u: %8X:%4X %8X:%4X %2X %8lX:%8lX", &local_addr,
                      &local_port, &remote_addr, &remote_port, &state, &tx, &rx)
          == 7
          && local_port == node_port && remote_port == mine)
        return static_cast<long>(rx);
    }
    return -1;
  }

  // Returns once the node has read everything written so far, so the next
  // write reaches it in a read of its own (no two pieces coalesce).
  void await_node_read_all() {
    ASSERT_TRUE(eventually([&] { return unacknowledged() == 0 && unread_by_node() == 0; }))
      << "the node did not read the piece (unacknowledged " << unacknowledged()
      << ", unread " << unread_by_node() << ")";
  }

  std::string read_until(const std::string& marker) {
    boost::system::error_code ec;
    return read_until([&](const std::string& in) { return in.find(marker) != std::string::npos; },
                      ec);
  }
};

size_t count_of(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
    ++n;
  return n;
}

} // namespace

TEST(http_reading, an_upgrade_request_that_arrives_in_pieces_is_answered) {
  node_process node;
  raw_client c{node.port()};
  c.write(upgrade_head.substr(0, 20));
  c.await_node_read_all();
  c.write(upgrade_head.substr(20, 60));
  c.await_node_read_all();
  c.write(upgrade_head.substr(80));
  auto answer = c.read_until("\r\n\r\n");
  EXPECT_EQ(answer.rfind("HTTP/1.1 101 Switching Protocols\r\n", 0), 0u) << answer;
  EXPECT_NE(answer.find("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"),
            std::string::npos) << answer;
}

TEST(http_reading, pipelined_requests_on_one_connection_are_answered_in_order) {
  node_process node;
  raw_client c{node.port()};
  c.write("GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
          "GET /no-such-route HTTP/1.1\r\nHost: x\r\n\r\n"
          "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  boost::system::error_code ec;
  auto answers = c.read_until([](const std::string&) { return false; }, ec);
  EXPECT_EQ(ec, asio::error::eof) << "the node closes after Connection: close";
  auto first_ok = answers.find("HTTP/1.1 200");
  auto not_found = answers.find("HTTP/1.1 404");
  auto second_ok = answers.find("HTTP/1.1 200", first_ok + 1);
  ASSERT_NE(first_ok, std::string::npos) << answers;
  ASSERT_NE(not_found, std::string::npos) << answers;
  ASSERT_NE(second_ok, std::string::npos) << answers;
  EXPECT_LT(first_ok, not_found);
  EXPECT_LT(not_found, second_ok);
  EXPECT_EQ(count_of(answers, "HTTP/1.1 "), 3u) << answers;
}

TEST(http_reading, a_publish_whose_body_comes_after_its_header_is_delivered) {
  node_process node;
  ws_client sub{node.port()};
  sub.send_text(R"({"op":"subscribe","id":1,"topics":["t"]})");
  ASSERT_TRUE(sub.read_until([](const ws_message& m) {
    return json_field(m.data, "type") == "\"ack\"";
  }));
  std::string body = R"({"topic":"t","data":{"px":101.5}})";
  raw_client c{node.port()};
  c.write("POST /api/publish HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
          "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n");
  c.await_node_read_all();
  c.write(body.substr(0, 10));
  c.await_node_read_all();
  c.write(body.substr(10));
  auto answer = c.read_until("\r\n\r\n");
  EXPECT_EQ(answer.rfind("HTTP/1.1 200", 0), 0u) << answer;
  auto ev = sub.read_until([](const ws_message& m) {
    return json_field(m.data, "type") == "\"event\"";
  });
  ASSERT_TRUE(ev);
  EXPECT_NE(ev->data.find("101.5"), std::string::npos) << ev->data;
}

TEST(http_reading, frames_sent_right_behind_the_upgrade_request_are_read) {
  node_process node;
  raw_client c{node.port()};
  // Request and first frame in one write, without waiting for the 101.
  c.write(upgrade_head + client_frame(R"({"op":"subscribe","id":7,"topics":["t"]})"));
  auto got = c.read_until("\"ack\"");
  EXPECT_EQ(got.rfind("HTTP/1.1 101", 0), 0u) << got;
  EXPECT_NE(got.find("\"ack\""), std::string::npos) << got;
  EXPECT_TRUE(eventually([&] {
    return json_field(http_request(node.port(), "GET", "/health").body, "subscriptions") == "1";
  }));
}

TEST(http_reading, clients_that_stop_mid_request_are_closed_at_the_handshake_timeout_and_others_are_served) {
  node_process node({"--ws.handshake-timeout=1s"});
  raw_client half{node.port()};
  half.write("GET /v1 HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgr");
  raw_client silent{node.port()};
  auto started = std::chrono::steady_clock::now();
  // Meanwhile another client connects and subscribes as usual.
  ws_client ok{node.port()};
  ok.send_text(R"({"op":"subscribe","id":1,"topics":["t"]})");
  EXPECT_TRUE(ok.read_until([](const ws_message& m) {
    return json_field(m.data, "type") == "\"ack\"";
  }));
  for (auto* c : {&half, &silent}) {
    boost::system::error_code ec;
    auto got = c->read_until([](const std::string&) { return false; }, ec);
    EXPECT_TRUE(ec == asio::error::eof || ec == asio::error::connection_reset)
      << "not closed by the node: " << ec.message();
    EXPECT_TRUE(got.empty()) << got;
  }
  EXPECT_GE(std::chrono::steady_clock::now() - started, 900ms) << "closed before the timeout";
  // The subscribed client is unaffected.
  EXPECT_EQ(json_field(http_request(node.port(), "GET", "/health").body, "connections"), "1");
}

TEST(http_reading, a_chunk_line_that_never_ends_gets_400_instead_of_filling_memory) {
  // A handshake timeout far beyond the client's 5 s patience: the node must
  // refuse the request for its size, not wait it out.
  node_process node({"--ws.handshake-timeout=60s"});
  raw_client c{node.port()};
  // A chunked body whose chunk-size line never ends: 1 MiB without a CRLF.
  c.write("POST /api/publish HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1;");
  boost::system::error_code ec;
  std::string filler(64 * 1024, 'x');
  for (int i = 0; i < 16 && !ec; ++i)
    c.write(filler, ec); // the node may close while we write
  auto answer = c.read_until([](const std::string&) { return false; }, ec);
  EXPECT_TRUE(ec == asio::error::eof || ec == asio::error::connection_reset)
    << "not closed by the node: " << ec.message();
  if (!answer.empty())
    EXPECT_EQ(answer.rfind("HTTP/1.1 400", 0), 0u) << answer.substr(0, 200);
  // The node goes on serving.
  EXPECT_EQ(http_request(node.port(), "GET", "/health").status, 200);
}
