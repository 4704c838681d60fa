// What an open connection may do to others: flood (inbound rate limit),
// stop reading (slow consumer), idle without subscribing (idle timeout).
// Each runs against the real tickgate binary.

#include <atomic>
#include <string>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>
#include <simdjson.h>

#include "support/json_fields.hpp"
#include "support/node_process.hpp"
#include "support/raw_upgrade.hpp"
#include "support/ws_client.hpp"

using namespace std::chrono_literals;
using namespace tickgate::test;

namespace {

bool is_type(const ws_message& m, const char* type) {
  return !m.binary && json_field(m.data, "type") == std::string{"\""} + type + "\"";
}

void subscribe(ws_client& c, uint64_t id, const std::string& topic) {
  c.send_text(R"({"op":"subscribe","id":)" + std::to_string(id) + R"(,"topics":[")" + topic
              + R"("]})");
  auto ack = c.read_until([](const ws_message& m) { return !is_type(m, "event"); });
  ASSERT_TRUE(ack) << "no ack";
  ASSERT_EQ(json_field(ack->data, "type"), "\"ack\"") << ack->data;
}

std::string health(uint16_t port, const char* key) {
  return json_field(http_request(port, "GET", "/health").body, key);
}

int64_t wall_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

// Publishes `per_batch` events of `payload` on `topic` every `period` until
// `total` went out; returns how many the node accepted.
int publish_steadily(uint16_t port, const std::string& topic, const std::string& payload,
                     int total, int per_batch, std::chrono::milliseconds period) {
  std::string item = R"({"topic":")" + topic + R"(","data":)" + payload + "}";
  int sent = 0;
  auto next = std::chrono::steady_clock::now();
  while (sent < total) {
    std::string body = "[";
    int n = std::min(per_batch, total - sent);
    for (int i = 0; i < n; ++i)
      body += (i ? "," : "") + item;
    body += "]";
    if (http_request(port, "POST", "/api/publish", body).status != 200)
      return sent;
    sent += n;
    next += period;
    std::this_thread::sleep_until(next);
  }
  return sent;
}

// What a subscriber saw of a steady stream: gaps and the worst lateness.
struct stream_check {
  int received = 0;
  int gaps = 0;             // events whose seq did not follow the previous one
  int64_t worst_delay_us = 0; // publish acceptance -> received here
};

stream_check follow(ws_client& c, int expected, std::chrono::milliseconds deadline) {
  stream_check out;
  int64_t last_seq = 0;
  auto until = std::chrono::steady_clock::now() + deadline;
  while (out.received < expected && std::chrono::steady_clock::now() < until) {
    auto m = c.read(200ms);
    if (!m) {
      if (c.closed())
        break;
      continue;
    }
    if (!is_type(*m, "event"))
      continue;
    auto seq = std::stoll(json_field(m->data, "seq"));
    if (seq != last_seq + 1)
      ++out.gaps;
    last_seq = seq;
    out.worst_delay_us = std::max(out.worst_delay_us,
                                  wall_us() - static_cast<int64_t>(std::stoll(json_field(m->data, "ts"))));
    ++out.received;
  }
  return out;
}

} // namespace

TEST(protection, a_client_that_never_subscribes_is_closed_after_the_idle_timeout) {
  node_process node({"--protection.idle-timeout=1s"});
  ws_client idle{node.port()};
  ws_client active{node.port()};
  subscribe(active, 1, "t");
  idle.send_text(R"({"op":"ping","id":1})"); // talking is not subscribing
  auto started = std::chrono::steady_clock::now();
  EXPECT_FALSE(idle.read_until([](const ws_message&) { return false; }, 4000ms));
  EXPECT_TRUE(idle.closed());
  EXPECT_EQ(idle.close_code(), 1008);
  EXPECT_EQ(idle.close_reason(), "idle timeout: no subscription within 1s");
  EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);
  // The subscriber outlived the timeout and is still served.
  ASSERT_EQ(http_request(node.port(), "POST", "/api/publish", R"({"topic":"t","data":1})").status,
            200);
  auto ev = active.read_until([](const ws_message& m) { return is_type(m, "event"); });
  ASSERT_TRUE(ev);
  EXPECT_EQ(node_stat(node.port(), "protection", "idle_closed"), 1);
}

TEST(protection, without_an_idle_timeout_a_quiet_client_stays_connected) {
  node_process node;
  ws_client quiet{node.port()};
  EXPECT_FALSE(quiet.read(1500ms));
  EXPECT_FALSE(quiet.closed());
  quiet.send_text(R"({"op":"ping","id":7})");
  EXPECT_TRUE(quiet.read_until([](const ws_message& m) { return is_type(m, "pong"); }));
}

TEST(protection, a_flooding_client_is_rate_limited_then_closed_while_others_get_every_event_on_time) {
  node_process node;
  ws_client good{node.port()};
  subscribe(good, 1, "t");
  ws_client flood{node.port()};
  subscribe(flood, 1, "t");
  constexpr int events = 300;
  std::atomic<int> published{0};
  std::thread publisher([&] {
    published = publish_steadily(node.port(), "t", R"({"p":1})", events, 3, 10ms);
  });
  // 10,000 frames as fast as the socket takes them; the node may close
  // before the last ones are written.
  int written = 0;
  try {
    for (; written < 10000; ++written)
      flood.send_text(R"({"op":"ping","id":)" + std::to_string(written) + "}");
  } catch (const std::exception&) {
  }
  auto seen = follow(good, events, 10s);
  publisher.join();
  ASSERT_EQ(published.load(), events);
  EXPECT_EQ(seen.received, events);
  EXPECT_EQ(seen.gaps, 0);
  EXPECT_LT(seen.worst_delay_us, 500'000) << "the flood delayed a well-behaved client";
  // The flooder was told, then closed.
  int pongs = 0;
  int rate_limited = 0;
  for (;;) {
    auto m = flood.read(5000ms);
    if (!m)
      break;
    pongs += is_type(*m, "pong");
    if (is_type(*m, "error")) {
      EXPECT_EQ(json_field(m->data, "code"), "\"rate_limited\"") << m->data;
      ++rate_limited;
    }
  }
  EXPECT_TRUE(flood.closed());
  EXPECT_EQ(flood.close_code(), 1008);
  EXPECT_EQ(flood.close_reason(), "rate limit exceeded");
  EXPECT_GE(pongs, 95);   // the burst (the subscribe took one token)
  EXPECT_LT(pongs, 200);  // not the flood
  EXPECT_GE(rate_limited, 1);
  EXPECT_LE(rate_limited, 3); // one notice per second, not one per dropped frame
  EXPECT_GE(node_stat(node.port(), "protection", "rate_limited"), 499);
  EXPECT_EQ(node_stat(node.port(), "protection", "rate_closed"), 1);
  good.send_text(R"({"op":"ping","id":2})");
  EXPECT_TRUE(good.read_until([](const ws_message& m) { return is_type(m, "pong"); }));
}

TEST(protection, the_rate_limit_is_configurable_per_dialect) {
  node_process node({"--protection.rate-overrides=[\"action=1:3\"]", "--protection.abuse-drops=0"});
  ws_client action{node.port(), "/"};
  ws_client native{node.port()};
  for (int i = 0; i < 6; ++i) {
    action.send_text(R"({"action":"ping"})");
    native.send_text(R"({"op":"ping","id":)" + std::to_string(i) + "}");
  }
  int pongs = 0;
  int limited = 0;
  while (auto m = action.read(700ms)) {
    auto type = json_field(m->data, "type");
    pongs += type == "\"pong\"";
    limited += type == "\"error\"" && m->data.find("rate limit exceeded") != std::string::npos;
  }
  EXPECT_EQ(pongs, 3);
  EXPECT_EQ(limited, 1);
  EXPECT_FALSE(action.closed()); // abuse-drops=0: dropped, never closed
  int native_pongs = 0;
  while (auto m = native.read(300ms))
    native_pongs += is_type(*m, "pong");
  EXPECT_EQ(native_pongs, 6);
}

TEST(protection, heartbeats_do_not_count_against_the_rate_limit) {
  // Engine.IO pongs are the client answering the node; they never reach the limit.
  // Two tokens: the namespace CONNECT (a client message, counted) and the ping.
  node_process node({"--protection.rate=1", "--protection.burst=2", "--protection.abuse-drops=2"});
  ws_client sio{node.port(), "/socket.io/?EIO=4&transport=websocket"};
  auto open = sio.read();
  ASSERT_TRUE(open);
  ASSERT_EQ(open->data.substr(0, 1), "0");
  sio.send_text("40");
  ASSERT_TRUE(sio.read_until([](const ws_message& m) { return m.data.substr(0, 2) == "40"; }));
  for (int i = 0; i < 50; ++i)
    sio.send_text("3");
  sio.send_text(R"(42["ping"])");
  EXPECT_TRUE(sio.read_until([](const ws_message& m) {
    return m.data.find("pong") != std::string::npos;
  }));
  EXPECT_FALSE(sio.closed());
  EXPECT_EQ(node_stat(node.port(), "protection", "rate_limited"), 0);
}

TEST(protection, a_subscriber_that_stops_reading_is_closed_as_slow_while_another_keeps_full_rate) {
  node_process node({"--ws.outbound-max-messages=64", "--ws.outbound-max-bytes=262144",
                     "--ws.handshake-timeout=1s"});
  ws_client fast{node.port()};
  subscribe(fast, 1, "t");
  // Completes the handshake, subscribes, then never reads (small receive buffer).
  boost::asio::io_context ioc;
  auto stalled = upgrade(ioc, node.port(), "", 4096);
  ASSERT_EQ(stalled.status, 101);
  boost::asio::write(*stalled.socket,
                     boost::asio::buffer(client_frame(R"({"op":"subscribe","id":1,"topics":["t"]})")));
  ASSERT_TRUE(eventually([&] { return health(node.port(), "subscriptions") == "2"; }));
  // 3,000 events of 4 KB at 1,000 per second: far more than the kernel
  // buffers and the 64-frame queue of the stalled client hold.
  constexpr int events = 3000;
  std::string payload = "\"" + std::string(4000, 'x') + "\"";
  std::atomic<int> published{0};
  std::thread publisher([&] {
    published = publish_steadily(node.port(), "t", payload, events, 10, 10ms);
  });
  auto seen = follow(fast, events, 20s);
  publisher.join();
  ASSERT_EQ(published.load(), events);
  EXPECT_EQ(seen.received, events);
  EXPECT_EQ(seen.gaps, 0);
  EXPECT_LT(seen.worst_delay_us, 500'000) << "the stalled client delayed the fast one";
  EXPECT_EQ(node_stat(node.port(), "conn", "slow_closed"), 1);
  EXPECT_TRUE(eventually([&] { return health(node.port(), "connections") == "1"; }, 5000ms));
  // The connection actor leaves the topic a message after the session ends.
  EXPECT_TRUE(eventually([&] { return health(node.port(), "subscriptions") == "1"; }, 2000ms));
}
