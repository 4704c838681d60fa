// Inbound backpressure against the real binary: a client that sends commands
// far faster than its connection processes them is not read while the
// connection is behind (ws.inbound-queue), so its flood waits in the kernel's
// buffers rather than in the node; every command is still answered, in
// order, and other clients keep getting their events meanwhile.

#include <string>
#include <thread>

#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include "support/json_fields.hpp"
#include "support/node_process.hpp"
#include "support/raw_upgrade.hpp"
#include "support/ws_client.hpp"

using namespace std::chrono_literals;
using namespace tickgate::test;

namespace {

// Reads the payloads of `count` unfragmented server text frames from `sock`.
std::vector<std::string> read_frames(boost::asio::ip::tcp::socket& sock, size_t count) {
  std::vector<std::string> out;
  std::string in;
  char buf[64 * 1024];
  while (out.size() < count) {
    size_t off = 0;
    for (;;) {
      if (in.size() - off < 2)
        break;
      size_t len = static_cast<uint8_t>(in[off + 1]) & 0x7F;
      size_t h = 2;
      if (len == 126) {
        if (in.size() - off < 4)
          break;
        len = (static_cast<uint8_t>(in[off + 2]) << 8) | static_cast<uint8_t>(in[off + 3]);
        h = 4;
      }
      if (in.size() - off < h + len)
        break;
      out.push_back(in.substr(off + h, len));
      off += h + len;
    }
    in.erase(0, off);
    if (out.size() >= count)
      break;
    boost::system::error_code ec;
    auto n = sock.read_some(boost::asio::buffer(buf), ec);
    if (ec)
      break;
    in.append(buf, n);
  }
  return out;
}

TEST(inbound_backpressure, a_flooding_client_is_paused_yet_answered_in_full_and_others_get_events) {
  // No rate limit (every command is processed), and room for every answer.
  node_process node({"--ws.inbound-queue=4", "--protection.rate=0",
                     "--ws.outbound-max-messages=100000", "--ws.pace-above=0"});
  ws_client watcher{node.port()};
  watcher.send_text(R"({"op":"subscribe","id":1,"topics":["trade@X"]})");
  ASSERT_TRUE(watcher.read());

  boost::asio::io_context ioc;
  auto flooder = upgrade(ioc, node.port());
  ASSERT_EQ(flooder.status, 101);
  constexpr int commands = 20000;
  std::string flood;
  for (int i = 1; i <= commands; ++i)
    flood += client_frame(R"({"op":"ping","id":)" + std::to_string(i) + "}");
  // The write blocks while the node is not reading: from another thread.
  std::thread writer{[&] { boost::asio::write(*flooder.socket, boost::asio::buffer(flood)); }};

  ASSERT_TRUE(eventually([&] {
    return node_metric(node.port(), "tickgate_read_pauses_total") > 0;
  })) << "the flooder's socket was never paused";
  ASSERT_EQ(http_request(node.port(), "POST", "/api/publish",
                         R"({"topic":"trade@X","data":{"n":1}})")
              .status,
            200);
  auto event = watcher.read();
  ASSERT_TRUE(event);
  EXPECT_EQ(json_field(event->data, "seq"), "1") << event->data;

  auto replies = read_frames(*flooder.socket, commands);
  writer.join();
  ASSERT_EQ(replies.size(), static_cast<size_t>(commands));
  for (int i = 1; i <= commands; ++i)
    ASSERT_EQ(json_field(replies[i - 1], "id"), std::to_string(i)) << replies[i - 1];
}

TEST(inbound_backpressure, with_the_bound_at_zero_reading_never_pauses) {
  node_process node({"--ws.inbound-queue=0", "--protection.rate=0"});
  boost::asio::io_context ioc;
  auto c = upgrade(ioc, node.port());
  ASSERT_EQ(c.status, 101);
  std::string burst;
  for (int i = 1; i <= 500; ++i)
    burst += client_frame(R"({"op":"ping","id":)" + std::to_string(i) + "}");
  boost::asio::write(*c.socket, boost::asio::buffer(burst));
  EXPECT_EQ(read_frames(*c.socket, 500).size(), 500u);
  EXPECT_EQ(node_metric(node.port(), "tickgate_read_pauses_total"), 0);
}

} // namespace
