// WebSocket framing rules against the real binary, with a raw TCP client that
// writes frames byte for byte (RFC 6455): what a browser or a bot library
// sends must work, and what breaks the protocol must close with the right code.

#include <memory>
#include <string>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include "net/send_batch.hpp"
#include "support/json_fields.hpp"
#include "support/node_process.hpp"
#include "support/ws_client.hpp"

using namespace std::chrono_literals;
using namespace tickgate::test;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

struct server_frame {
  uint8_t opcode = 0;
  bool fin = false;
  std::string payload;
};

class raw_client {
public:
  explicit raw_client(uint16_t port, int rcvbuf = 0) : sock_(ioc_) {
    sock_.open(tcp::v4());
    if (rcvbuf > 0) // set before connecting, so the window stays small
      sock_.set_option(asio::socket_base::receive_buffer_size(rcvbuf));
    sock_.connect({asio::ip::make_address("127.0.0.1"), port});
    std::string req = "GET /v1 HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                      "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                      "Sec-WebSocket-Version: 13\r\n\r\n";
    asio::write(sock_, asio::buffer(req));
    auto n = asio::read_until(sock_, asio::dynamic_buffer(in_), "\r\n\r\n");
    status_line_ = in_.substr(0, in_.find("\r\n"));
    in_.erase(0, n);
  }

  const std::string& status_line() const { return status_line_; }

  static std::string frame(uint8_t first, std::string_view payload, bool masked = true) {
    std::string out;
    out.push_back(static_cast<char>(first));
    auto n = payload.size();
    uint8_t m = masked ? 0x80 : 0;
    if (n < 126) {
      out.push_back(static_cast<char>(m | n));
    } else {
      out.push_back(static_cast<char>(m | 126));
      out.push_back(static_cast<char>(n >> 8));
      out.push_back(static_cast<char>(n & 0xFF));
    }
    const char key[4] = {0x0A, 0x1B, 0x2C, 0x3D};
    if (masked)
      out.append(key, 4);
    for (size_t i = 0; i < n; ++i)
      out.push_back(static_cast<char>(payload[i] ^ (masked ? key[i % 4] : 0)));
    return out;
  }

  void write(const std::string& bytes) { asio::write(sock_, asio::buffer(bytes)); }

  // The next server frame, or nullopt on EOF/timeout.
  std::optional<server_frame> read(std::chrono::milliseconds timeout = 5000ms) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (auto f = parse())
        return f;
      if (std::chrono::steady_clock::now() > deadline)
        return std::nullopt;
      struct timeval tv{0, 50'000};
      setsockopt(sock_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      char buf[4096];
      boost::system::error_code ec;
      auto n = sock_.read_some(asio::buffer(buf), ec);
      if (ec == asio::error::eof || ec == asio::error::connection_reset)
        return std::nullopt;
      in_.append(buf, n);
    }
  }

  // Frames until the server's close frame; its code (0: none arrived).
  uint16_t close_code(std::chrono::milliseconds timeout = 5000ms) {
    while (auto f = read(timeout))
      if (f->opcode == 0x8)
        return f->payload.size() >= 2
                 ? static_cast<uint16_t>((static_cast<uint8_t>(f->payload[0]) << 8)
                                         | static_cast<uint8_t>(f->payload[1]))
                 : 0;
    return 0;
  }

private:
  std::optional<server_frame> parse() {
    if (in_.size() < 2)
      return std::nullopt;
    auto b0 = static_cast<uint8_t>(in_[0]);
    auto b1 = static_cast<uint8_t>(in_[1]);
    EXPECT_EQ(b1 & 0x80, 0) << "server frames must not be masked";
    size_t len = b1 & 0x7F;
    size_t h = 2;
    if (len == 126) {
      if (in_.size() < 4)
        return std::nullopt;
      len = (static_cast<uint8_t>(in_[2]) << 8) | static_cast<uint8_t>(in_[3]);
      h = 4;
    } else if (len == 127) {
      if (in_.size() < 10)
        return std::nullopt;
      len = 0;
      for (int i = 2; i < 10; ++i)
        len = (len << 8) | static_cast<uint8_t>(in_[i]);
      h = 10;
    }
    if (in_.size() < h + len)
      return std::nullopt;
    server_frame f{static_cast<uint8_t>(b0 & 0x0F), (b0 & 0x80) != 0, in_.substr(h, len)};
    in_.erase(0, h + len);
    return f;
  }

  asio::io_context ioc_;
  tcp::socket sock_;
  std::string in_;
  std::string status_line_;
};

std::string close_payload(uint16_t code, std::string_view reason = "") {
  std::string p;
  p.push_back(static_cast<char>(code >> 8));
  p.push_back(static_cast<char>(code & 0xFF));
  p.append(reason);
  return p;
}

TEST(ws_protocol, answers_a_ping_with_a_pong_carrying_its_payload) {
  node_process node;
  raw_client c{node.port()};
  ASSERT_EQ(c.status_line(), "HTTP/1.1 101 Switching Protocols");
  c.write(raw_client::frame(0x89, "are you there"));
  auto f = c.read();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->opcode, 0xA);
  EXPECT_TRUE(f->fin);
  EXPECT_EQ(f->payload, "are you there");
}

TEST(ws_protocol, reassembles_a_fragmented_message_with_a_ping_between_fragments) {
  node_process node;
  raw_client c{node.port()};
  c.write(raw_client::frame(0x01, R"({"op":"subscribe","id":7,)")
          + raw_client::frame(0x89, "x")
          + raw_client::frame(0x80, R"("topics":["trade@AAPL"]})"));
  auto pong = c.read();
  ASSERT_TRUE(pong);
  EXPECT_EQ(pong->opcode, 0xA);
  auto ack = c.read();
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->opcode, 0x1);
  EXPECT_EQ(json_field(ack->payload, "type"), "\"ack\"") << ack->payload;
  EXPECT_EQ(json_field(ack->payload, "id"), "7");
}

TEST(ws_protocol, answers_every_frame_of_a_burst_sent_in_one_write) {
  node_process node;
  raw_client c{node.port()};
  std::string burst;
  for (int i = 1; i <= 50; ++i)
    burst += raw_client::frame(0x81, R"({"op":"ping","id":)" + std::to_string(i) + "}");
  c.write(burst);
  for (int i = 1; i <= 50; ++i) {
    auto f = c.read();
    ASSERT_TRUE(f) << "reply " << i;
    EXPECT_EQ(json_field(f->payload, "id"), std::to_string(i)) << f->payload;
  }
}

TEST(ws_protocol, echoes_the_clients_close_code_and_hangs_up) {
  node_process node;
  raw_client c{node.port()};
  c.write(raw_client::frame(0x88, close_payload(4000, "bye")));
  EXPECT_EQ(c.close_code(), 4000);
  EXPECT_FALSE(c.read(2000ms)) << "the server must end the TCP connection";
}

TEST(ws_protocol, closes_1002_on_an_unmasked_frame) {
  node_process node;
  raw_client c{node.port()};
  c.write(raw_client::frame(0x81, R"({"op":"ping"})", false));
  EXPECT_EQ(c.close_code(), 1002);
}

TEST(ws_protocol, closes_1007_on_text_that_is_not_utf8) {
  node_process node;
  raw_client c{node.port()};
  c.write(raw_client::frame(0x81, "\xC3\x28"));
  EXPECT_EQ(c.close_code(), 1007);
}

TEST(ws_protocol, closes_1002_on_an_invalid_close_code_and_counts_it) {
  node_process node;
  raw_client c{node.port()};
  c.write(raw_client::frame(0x88, close_payload(1005)));
  EXPECT_EQ(c.close_code(), 1002);
  auto metrics = http_request(node.port(), "GET", "/metrics", "");
  EXPECT_NE(metrics.body.find("tickgate_protocol_errors_total 1"), std::string::npos)
    << metrics.body;
}

TEST(ws_protocol, a_broken_client_does_not_disturb_another) {
  node_process node;
  raw_client good{node.port()};
  raw_client bad{node.port()};
  bad.write(raw_client::frame(0xC1, "rsv bits"));
  EXPECT_EQ(bad.close_code(), 1002);
  good.write(raw_client::frame(0x81, R"({"op":"ping","id":3})"));
  auto f = good.read();
  ASSERT_TRUE(f);
  EXPECT_EQ(json_field(f->payload, "id"), "3");
}

} // namespace

namespace {

// A publish body of `count` events on `topic`, each carrying `pad`.
std::string padded_events(const std::string& topic, const std::string& pad, int count) {
  std::string body = "[";
  for (int i = 0; i < count; ++i)
    body += std::string{i ? "," : ""} + R"({"topic":")" + topic + R"(","data":{"pad":")" + pad
            + "\"}}";
  return body + "]";
}

// Publishes events n = round*10+1 .. round*10+10 to trade@X in one request.
void publish_round(uint16_t port, int round) {
  std::string batch = "[";
  for (int i = 1; i <= 10; ++i)
    batch += std::string{i > 1 ? "," : ""} + R"({"topic":"trade@X","data":{"n":)"
             + std::to_string(round * 10 + i) + "}}";
  batch += "]";
  ASSERT_EQ(http_request(port, "POST", "/api/publish", batch).status, 200);
}

// A burst far past the write budget: every event still arrives, in order,
// and the held-back writes are counted. Then without pacing none are.
void expect_burst_delivered(const std::vector<std::string>& args, bool paced) {
  node_process node(args);
  raw_client c{node.port()};
  c.write(raw_client::frame(0x81, R"({"op":"subscribe","id":1,"topics":["trade@X"]})"));
  auto ack = c.read();
  ASSERT_TRUE(ack);
  ASSERT_EQ(json_field(ack->payload, "type"), "\"ack\"") << ack->payload;
  for (int round = 0; round < 20; ++round)
    publish_round(node.port(), round);
  for (int i = 1; i <= 200; ++i) {
    auto f = c.read();
    ASSERT_TRUE(f) << "event " << i;
    EXPECT_EQ(json_field(f->payload, "seq"), std::to_string(i)) << f->payload;
  }
  auto paced_writes = node_metric(node.port(), "tickgate_paced_writes_total");
  if (paced)
    EXPECT_GT(paced_writes, 0);
  else
    EXPECT_EQ(paced_writes, 0);
}

TEST(ws_protocol, write_pacing_batches_a_burst_and_every_event_arrives_in_order) {
  expect_burst_delivered({"--ws.pace-above=20", "--ws.pace-interval=50ms"}, true);
}

TEST(ws_protocol, without_write_pacing_no_write_is_held_back) {
  expect_burst_delivered({"--ws.pace-above=0"}, false);
}

// The writes of a flush pass go out together (ws.send-batch): each of many
// clients still gets every event once and in order, and a client that hangs
// up mid-stream costs the others nothing. Without batching, none do.
void expect_fan_out_delivered(const std::vector<std::string>& args, bool together) {
  if (together && !tickgate::net::send_batch{2}.batching())
    GTEST_SKIP() << "this kernel refuses io_uring: every write is its own send";
  node_process node(args);
  std::vector<std::unique_ptr<raw_client>> clients;
  for (int i = 0; i < 30; ++i) {
    clients.push_back(std::make_unique<raw_client>(node.port()));
    clients.back()->write(
      raw_client::frame(0x81, R"({"op":"subscribe","id":1,"topics":["trade@X"]})"));
    auto ack = clients.back()->read();
    ASSERT_TRUE(ack);
    ASSERT_EQ(json_field(ack->payload, "type"), "\"ack\"") << ack->payload;
  }
  for (int round = 0; round < 10; ++round)
    publish_round(node.port(), round);
  clients[7].reset(); // hangs up without a close handshake, its events unread
  for (int round = 10; round < 20; ++round)
    publish_round(node.port(), round);
  for (size_t c = 0; c < clients.size(); ++c) {
    if (!clients[c])
      continue;
    for (int i = 1; i <= 200; ++i) {
      auto f = clients[c]->read();
      ASSERT_TRUE(f) << "client " << c << " event " << i;
      ASSERT_EQ(json_field(f->payload, "seq"), std::to_string(i)) << "client " << c;
    }
  }
  auto batched = node_metric(node.port(), "tickgate_batched_writes_total");
  if (together)
    EXPECT_GT(batched, 0);
  else
    EXPECT_EQ(batched, 0);
  // The one that hung up is gone; the node noticed when it read its end.
  auto open = [&] { return node_metric(node.port(), R"(tickgate_connections{dialect="native"})"); };
  for (int i = 0; i < 40 && open() != 29; ++i)
    std::this_thread::sleep_for(50ms);
  EXPECT_EQ(open(), 29);
}

TEST(ws_protocol, writes_to_many_clients_go_out_together_and_each_gets_every_event_in_order) {
  expect_fan_out_delivered({}, true);
}

TEST(ws_protocol, with_one_send_per_write_each_client_gets_every_event_in_order) {
  expect_fan_out_delivered({"--ws.send-batch=0"}, false);
}

// A client that stops reading: its writes, sent with the others of their
// pass, find its socket full (partly written or not at all) and the rest
// goes out as it reads. It gets everything in order, and the client that
// kept reading lost nothing meanwhile.
TEST(ws_protocol, a_client_that_stops_reading_gets_its_backlog_in_order_when_it_reads_again) {
  if (!tickgate::net::send_batch{2}.batching())
    GTEST_SKIP() << "this kernel refuses io_uring: every write is its own send";
  node_process node({"--ws.pace-above=0"}); // every pass writes what is queued
  raw_client reading{node.port()};
  raw_client stalled{node.port(), 4096};
  for (auto* c : {&reading, &stalled}) {
    c->write(raw_client::frame(0x81, R"({"op":"subscribe","id":1,"topics":["trade@X"]})"));
    auto ack = c->read();
    ASSERT_TRUE(ack);
    ASSERT_EQ(json_field(ack->payload, "type"), "\"ack\"") << ack->payload;
  }
  // 800 rounds of 10 events of ~1.4 KB: ~11 MB, more than the node's
  // socket send buffer grows to (4 MB here) plus the stalled client's, in
  // writes small enough to be batched (one round per write).
  std::string pad(1400, 'p');
  int seq = 0;
  for (int round = 0; round < 800; ++round) {
    ASSERT_EQ(http_request(node.port(), "POST", "/api/publish", padded_events("trade@X", pad, 10))
                .status,
              200);
    for (int i = 0; i < 10; ++i) {
      auto f = reading.read();
      ASSERT_TRUE(f);
      ASSERT_EQ(json_field(f->payload, "seq"), std::to_string(++seq));
    }
  }
  EXPECT_GT(node_metric(node.port(), "tickgate_batched_writes_total"), 0);
  for (int i = 1; i <= 8000; ++i) {
    auto f = stalled.read();
    ASSERT_TRUE(f) << "event " << i;
    ASSERT_NE(f->opcode, 0x8) << "the stalled client was closed";
    ASSERT_EQ(json_field(f->payload, "seq"), std::to_string(i));
  }
}

} // namespace

namespace {

TEST(ws_protocol, drop_oldest_keeps_a_slow_client_connected_and_tells_it_what_it_lost) {
  node_process node({"--ws.slow-consumer-policy=drop-oldest", "--ws.outbound-max-messages=256",
                     "--ws.outbound-max-bytes=2097152"});
  raw_client fast{node.port()};
  raw_client slow{node.port(), 4096};
  for (auto* c : {&fast, &slow}) {
    c->write(raw_client::frame(0x81, R"({"op":"subscribe","id":1,"topics":["t"]})"));
    auto ack = c->read();
    ASSERT_TRUE(ack);
    ASSERT_EQ(json_field(ack->payload, "type"), "\"ack\"") << ack->payload;
  }
  // 3,000 events of 4 KB while `slow` reads nothing: far more than its
  // kernel buffers and 256-frame queue hold; bursts of 100 fit the fast
  // client's queue.
  std::string pad(4000, 'x');
  int seq_fast = 0;
  for (int batch = 0; batch < 30; ++batch) {
    ASSERT_EQ(
      http_request(node.port(), "POST", "/api/publish", padded_events("t", pad, 100)).status,
      200);
    for (int i = 0; i < 100; ++i) { // the fast client keeps up and loses nothing
      auto f = fast.read();
      ASSERT_TRUE(f);
      EXPECT_EQ(json_field(f->payload, "seq"), std::to_string(++seq_fast));
    }
  }
  // Now the slow client reads: newest events, a gap, a notice, no close.
  uint64_t last_seq = 0;
  bool gap = false;
  bool notice = false;
  while (auto f = slow.read(2000ms)) {
    ASSERT_NE(f->opcode, 0x8) << "the slow client was closed";
    auto type = json_field(f->payload, "type");
    if (type == "\"event\"") {
      auto seq = std::stoull(json_field(f->payload, "seq"));
      gap = gap || seq != last_seq + 1;
      last_seq = seq;
    } else if (f->payload.find("\"dropped\"") != std::string::npos) {
      notice = true;
    }
    if (last_seq == 3000)
      break;
  }
  EXPECT_EQ(last_seq, 3000u) << "the newest event must arrive";
  EXPECT_TRUE(gap);
  EXPECT_TRUE(notice) << "the client must be told that events were dropped";
  auto metrics = http_request(node.port(), "GET", "/metrics", "");
  EXPECT_EQ(metrics.body.find("tickgate_slow_consumer_dropped_total 0"), std::string::npos);
  EXPECT_NE(metrics.body.find("tickgate_slow_consumer_disconnects_total 0"), std::string::npos);
}

} // namespace

namespace {

TEST(ws_protocol, an_event_larger_than_the_whole_queue_bound_closes_as_slow_consumer) {
  node_process node({"--ws.outbound-max-bytes=1000"});
  raw_client c{node.port()};
  c.write(raw_client::frame(0x81, R"({"op":"subscribe","id":1,"topics":["big"]})"));
  auto ack = c.read();
  ASSERT_TRUE(ack);
  std::string body = R"({"topic":"big","data":")" + std::string(2000, 'x') + R"("})";
  ASSERT_EQ(http_request(node.port(), "POST", "/api/publish", body).status, 200);
  EXPECT_EQ(c.close_code(), 1008);
}

} // namespace
