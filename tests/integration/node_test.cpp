// The real tickgate binary on a free port, driven over WebSocket and HTTP.

#include <csignal>
#include <string>
#include <sys/wait.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>
#include <simdjson.h>

#include "support/json_fields.hpp"
#include "support/node_process.hpp"
#include "support/ws_client.hpp"
#include "tickgate.pb.h"

using namespace std::chrono_literals;
using namespace tickgate::test;

namespace {

bool is_type(const ws_message& m, const char* type) {
  return !m.binary && json_field(m.data, "type") == std::string{"\""} + type + "\"";
}

std::string subscribe_frame(uint64_t id, std::initializer_list<std::string> topics) {
  std::string s = R"({"op":"subscribe","id":)" + std::to_string(id) + R"(,"topics":[)";
  bool first = true;
  for (auto& t : topics) {
    s += (first ? "\"" : ",\"") + t + "\"";
    first = false;
  }
  return s + "]}";
}

// Subscribes and waits for the ack (whose id must match).
void subscribe(ws_client& c, uint64_t id, std::initializer_list<std::string> topics) {
  c.send_text(subscribe_frame(id, topics));
  auto ack = c.read_until([](const ws_message& m) { return !is_type(m, "event"); });
  ASSERT_TRUE(ack) << "no ack";
  ASSERT_EQ(json_field(ack->data, "type"), "\"ack\"") << ack->data;
  ASSERT_EQ(json_field(ack->data, "id"), std::to_string(id));
}

int publish(uint16_t port, const std::string& topic, const std::string& data) {
  return http_request(port, "POST", "/api/publish",
                      R"({"topic":")" + topic + R"(","data":)" + data + "}")
    .status;
}

std::optional<ws_message> next_event(ws_client& c,
                                     std::chrono::milliseconds t = 5000ms) {
  return c.read_until([](const ws_message& m) { return is_type(m, "event"); }, t);
}

std::string error_code_of(ws_client& c) {
  auto m = c.read_until([](const ws_message& m) { return is_type(m, "error"); });
  return m ? json_field(m->data, "code") : "<no error frame>";
}

// A plain TCP socket that completed a WebSocket handshake on /v1 and is left
// to the test (optionally with a small receive buffer).
boost::asio::ip::tcp::socket raw_websocket(boost::asio::io_context& ioc, uint16_t port,
                                           int receive_buffer = 0) {
  boost::asio::ip::tcp::socket s{ioc};
  s.open(boost::asio::ip::tcp::v4());
  if (receive_buffer > 0)
    s.set_option(boost::asio::socket_base::receive_buffer_size(receive_buffer));
  s.connect({boost::asio::ip::make_address("127.0.0.1"), port});
  std::string req = "GET /v1 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                    "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                    "Sec-WebSocket-Version: 13\r\n\r\n";
  boost::asio::write(s, boost::asio::buffer(req));
  std::string response;
  boost::asio::read_until(s, boost::asio::dynamic_buffer(response), "\r\n\r\n");
  return s;
}

} // namespace

TEST(node, publish_over_http_reaches_subscribers_in_order_with_consecutive_seq) {
  node_process node;
  ws_client c{node.port()};
  subscribe(c, 1, {"trade@AAPL"});
  for (int i = 1; i <= 20; ++i)
    ASSERT_EQ(publish(node.port(), "trade@AAPL", R"({"p":")" + std::to_string(i) + R"("})"), 200);
  std::string epoch;
  for (int i = 1; i <= 20; ++i) {
    auto ev = next_event(c);
    ASSERT_TRUE(ev) << "event " << i << " missing";
    EXPECT_EQ(json_field(ev->data, "topic"), "\"trade@AAPL\"");
    EXPECT_EQ(json_field(ev->data, "seq"), std::to_string(i));
    EXPECT_EQ(json_field(ev->data, "data"), R"({"p":")" + std::to_string(i) + R"("})");
    if (i == 1)
      epoch = json_field(ev->data, "epoch");
    EXPECT_EQ(json_field(ev->data, "epoch"), epoch);
    EXPECT_GT(std::stoll(json_field(ev->data, "ts")), 1'700'000'000'000'000LL);
  }
}

TEST(node, payload_passes_through_untouched) {
  node_process node;
  ws_client c{node.port()};
  subscribe(c, 1, {"t"});
  std::string data = R"({ "nested" : [1, 2.50, "x\"y"],  "u":"€" })";
  ASSERT_EQ(publish(node.port(), "t", data), 200);
  auto ev = next_event(c);
  ASSERT_TRUE(ev);
  EXPECT_NE(ev->data.find(R"("data":)" + data + "}"), std::string::npos) << ev->data;
}

TEST(node, batch_publish_keeps_order_per_topic) {
  node_process node;
  ws_client c{node.port()};
  subscribe(c, 1, {"a", "b"});
  std::string body = "[";
  for (int i = 0; i < 10; ++i)
    body += std::string(i ? "," : "") + R"({"topic":")" + (i % 2 ? "b" : "a")
            + R"(","data":)" + std::to_string(i) + "}";
  body += "]";
  auto res = http_request(node.port(), "POST", "/api/publish", body);
  ASSERT_EQ(res.status, 200);
  EXPECT_EQ(res.body, R"({"accepted":10})");
  int last_a = -1, last_b = -1;
  for (int i = 0; i < 10; ++i) {
    auto ev = next_event(c);
    ASSERT_TRUE(ev);
    int v = std::stoi(json_field(ev->data, "data"));
    auto& last = json_field(ev->data, "topic") == "\"a\"" ? last_a : last_b;
    EXPECT_GT(v, last);
    last = v;
  }
}

TEST(node, unsubscribe_stops_delivery) {
  node_process node;
  ws_client c{node.port()};
  subscribe(c, 1, {"trade@AAPL", "ticker@AAPL"});
  c.send_text(R"({"op":"unsubscribe","id":2,"topics":["trade@AAPL"]})");
  auto ack = c.read();
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->data, R"({"type":"ack","id":2,"op":"unsubscribe","topics":["trade@AAPL"]})");
  ASSERT_EQ(publish(node.port(), "trade@AAPL", "1"), 200);
  ASSERT_EQ(publish(node.port(), "ticker@AAPL", "2"), 200);
  auto ev = next_event(c);
  ASSERT_TRUE(ev);
  EXPECT_EQ(json_field(ev->data, "topic"), "\"ticker@AAPL\"");
  // The trade would have come first; after the ticker nothing else arrives.
  EXPECT_FALSE(c.read(300ms));
}

TEST(node, clients_on_different_topics_see_only_their_own) {
  node_process node;
  ws_client x{node.port()};
  ws_client y{node.port(), "/"}; // the root detects the native protocol
  subscribe(x, 1, {"trade@X"});
  subscribe(y, 1, {"trade@Y"});
  ASSERT_EQ(publish(node.port(), "trade@X", "1"), 200);
  ASSERT_EQ(publish(node.port(), "trade@Y", "2"), 200);
  auto ex = next_event(x);
  auto ey = next_event(y);
  ASSERT_TRUE(ex && ey);
  EXPECT_EQ(json_field(ex->data, "topic"), "\"trade@X\"");
  EXPECT_EQ(json_field(ey->data, "topic"), "\"trade@Y\"");
  EXPECT_FALSE(x.read(200ms));
  EXPECT_FALSE(y.read(50ms));
}

TEST(node, ping_gets_pong_with_id) {
  node_process node;
  ws_client c{node.port(), "/"};
  c.send_text(R"({"op":"ping","id":3})");
  auto pong = c.read();
  ASSERT_TRUE(pong);
  EXPECT_EQ(json_field(pong->data, "type"), "\"pong\"");
  EXPECT_EQ(json_field(pong->data, "id"), "3");
  EXPECT_GT(std::stoll(json_field(pong->data, "ts")), 1'700'000'000'000'000LL);
}

TEST(node, bad_input_gets_error_frames_is_counted_and_harms_nobody) {
  node_process node({"--ws.max-subscriptions=3"});
  ws_client good{node.port()};
  subscribe(good, 1, {"trade@AAPL"});
  ws_client bad{node.port()};
  bad.send_text("{not json");
  EXPECT_EQ(error_code_of(bad), "\"bad_request\"");
  bad.send_text(R"({"op":"launch","id":5})");
  auto m = bad.read();
  ASSERT_TRUE(m);
  EXPECT_EQ(json_field(m->data, "code"), "\"unknown_op\"");
  EXPECT_EQ(json_field(m->data, "id"), "5");
  bad.send_text(R"({"op":"subscribe","id":"1","topics":["a"]})");
  EXPECT_EQ(error_code_of(bad), "\"bad_request\"");
  bad.send_text(R"({"op":"subscribe","id":6,"topics":[""]})");
  EXPECT_EQ(error_code_of(bad), "\"invalid_topic\"");
  bad.send_text(R"({"op":"subscribe","id":7,"topics":[")" + std::string(200, 'x') + "\"]}");
  EXPECT_EQ(error_code_of(bad), "\"invalid_topic\"");
  bad.send_text(subscribe_frame(8, {"a", "b", "c", "d"}));
  EXPECT_EQ(error_code_of(bad), "\"limit_exceeded\"");
  // The connection survives all of it and still works.
  subscribe(bad, 9, {"a", "b", "c"});
  ASSERT_EQ(publish(node.port(), "trade@AAPL", "1"), 200);
  auto ev = next_event(good);
  ASSERT_TRUE(ev);
  EXPECT_EQ(json_field(ev->data, "seq"), "1");
  EXPECT_EQ(node_stat(node.port(), "conn", "frames_in"), 1 + 7); // good + bad
  auto body = http_request(node.port(), "GET", "/api/stats").body;
  EXPECT_NE(body.find(R"("bad_request":2)"), std::string::npos) << body;
  EXPECT_NE(body.find(R"("invalid_topic":2)"), std::string::npos) << body;
  EXPECT_NE(body.find(R"("limit_exceeded":1)"), std::string::npos) << body;
  EXPECT_NE(body.find(R"("unknown_op":1)"), std::string::npos) << body;
}

TEST(node, oversize_frame_closes_with_1009_and_others_keep_receiving) {
  node_process node({"--ws.max-frame-bytes=1024"});
  ws_client good{node.port()};
  subscribe(good, 1, {"t"});
  ws_client big{node.port()};
  big.send_text(R"({"op":"ping","pad":")" + std::string(2000, 'x') + "\"}");
  EXPECT_FALSE(big.read());
  EXPECT_TRUE(big.closed());
  EXPECT_EQ(big.close_code(), 1009);
  ASSERT_EQ(publish(node.port(), "t", "1"), 200);
  EXPECT_TRUE(next_event(good));
  EXPECT_EQ(node_stat(node.port(), "conn", "frames_too_large"), 1);
}

TEST(node, protobuf_and_json_clients_on_one_topic_get_the_same_events) {
  node_process node;
  ws_client json{node.port()};
  ws_client bin{node.port()};
  subscribe(json, 1, {"depth@X"});
  tickgate::v1::ClientFrame sub;
  sub.set_id(1);
  sub.mutable_subscribe()->add_topics("depth@X");
  bin.send_binary(sub.SerializeAsString());
  auto ack = bin.read();
  ASSERT_TRUE(ack && ack->binary);
  tickgate::v1::ServerFrame f;
  ASSERT_TRUE(f.ParseFromString(ack->data));
  ASSERT_TRUE(f.has_ack());
  EXPECT_EQ(f.ack().id(), 1u);
  for (int i = 0; i < 5; ++i)
    ASSERT_EQ(publish(node.port(), "depth@X", R"({"b":[[")" + std::to_string(i) + R"(","1"]]})"), 200);
  for (int i = 0; i < 5; ++i) {
    auto j = next_event(json);
    auto b = bin.read();
    ASSERT_TRUE(j && b);
    ASSERT_TRUE(b->binary);
    ASSERT_TRUE(f.ParseFromString(b->data));
    ASSERT_TRUE(f.has_event());
    EXPECT_EQ(std::to_string(f.event().seq()), json_field(j->data, "seq"));
    EXPECT_EQ("\"" + f.event().epoch() + "\"", json_field(j->data, "epoch"));
    EXPECT_EQ(std::to_string(f.event().ts()), json_field(j->data, "ts"));
    EXPECT_EQ(f.event().data(), json_field(j->data, "data"));
  }
}

TEST(node, subprotocol_picks_the_reply_format) {
  node_process node;
  ws_client c{node.port(), "/v1", "tickgate.v1.proto"};
  EXPECT_EQ(c.selected_subprotocol(), "tickgate.v1.proto");
  c.send_text(R"({"op":"ping","id":11})"); // JSON in, protobuf out
  auto m = c.read();
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->binary);
  tickgate::v1::ServerFrame f;
  ASSERT_TRUE(f.ParseFromString(m->data));
  EXPECT_EQ(f.pong().id(), 11u);
  ws_client j{node.port(), "/v1", "tickgate.v1.json"};
  EXPECT_EQ(j.selected_subprotocol(), "tickgate.v1.json");
}

TEST(node, http_routes_answer_and_reject_bad_publishes) {
  node_process node({"--ws.max-http-body-bytes=1000"});
  auto health = http_request(node.port(), "GET", "/health");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(json_field(health.body, "status"), "\"ok\"");
  EXPECT_EQ(json_field(health.body, "connections"), "0");
  EXPECT_NE(json_field(health.body, "version"), "<missing>");
  EXPECT_NE(json_field(health.body, "uptime_s"), "<missing>");
  EXPECT_EQ(http_request(node.port(), "POST", "/api/publish", "{").status, 400);
  auto r = http_request(node.port(), "POST", "/api/publish", R"({"topic":"a b","data":1})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("invalid topic"), std::string::npos);
  EXPECT_EQ(http_request(node.port(), "POST", "/api/publish",
                         R"({"topic":"a","data":")" + std::string(2000, 'x') + "\"}")
              .status,
            413);
  EXPECT_EQ(http_request(node.port(), "GET", "/api/publish").status, 405);
  EXPECT_EQ(http_request(node.port(), "GET", "/nope").status, 404);
  EXPECT_EQ(http_request(node.port(), "GET", "/v1").status, 426);
  EXPECT_EQ(node_stat(node.port(), "http", "publish_rejected"), 2);
}

TEST(node, health_counts_connections_and_topics) {
  node_process node;
  ws_client c{node.port()};
  subscribe(c, 1, {"a", "b"});
  auto health = http_request(node.port(), "GET", "/health").body;
  EXPECT_EQ(json_field(health, "connections"), "1");
  EXPECT_EQ(json_field(health, "topics"), "2");
  EXPECT_EQ(json_field(health, "subscriptions"), "2");
}

TEST(node, silent_clients_are_closed_after_the_pong_timeout) {
  node_process node({"--ws.ping-interval=1s", "--ws.pong-timeout=1s"});
  // A raw socket that completes the handshake and then never reads or answers pings.
  boost::asio::io_context ioc;
  auto s = raw_websocket(ioc, node.port());
  ws_client alive{node.port()}; // answers pings while it reads
  auto connections = [&] {
    return json_field(http_request(node.port(), "GET", "/health").body, "connections");
  };
  EXPECT_EQ(connections(), "2");
  EXPECT_TRUE(eventually([&] {
    alive.read(50ms); // lets the client answer pings
    return connections() == "1";
  }, 6000ms));
  // The silent socket was closed by the server.
  boost::system::error_code ec;
  char byte;
  for (int i = 0; i < 100 && !ec; ++i)
    s.read_some(boost::asio::buffer(&byte, 1), ec);
  EXPECT_TRUE(ec) << "silent socket still open";
  // The responsive client is still served.
  alive.send_text(R"({"op":"ping","id":1})");
  auto pong = alive.read_until([](const ws_message& m) { return is_type(m, "pong"); }, 3000ms);
  ASSERT_TRUE(pong);
}

TEST(node, sigterm_closes_clients_with_1001_and_exits_zero_quickly) {
  node_process node;
  ws_client a{node.port()};
  ws_client b{node.port()};
  subscribe(a, 1, {"x"});
  subscribe(b, 1, {"x"});
  auto started = std::chrono::steady_clock::now();
  ::kill(node.pid(), SIGTERM);
  EXPECT_FALSE(a.read(5000ms));
  EXPECT_TRUE(a.closed());
  EXPECT_EQ(a.close_code(), 1001);
  EXPECT_FALSE(b.read(5000ms));
  EXPECT_EQ(b.close_code(), 1001);
  auto status = node.stop(SIGTERM, 5000ms);
  ASSERT_NE(status, -1) << "did not exit";
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
}

TEST(node, demo_feed_publishes_trades_and_tickers) {
  node_process node({"--demo", "--demo-rate=200"});
  ws_client c{node.port()};
  subscribe(c, 1, {"trade@AAPL", "ticker@AAPL"});
  auto trade = c.read_until([](const ws_message& m) {
    return is_type(m, "event") && json_field(m.data, "topic") == "\"trade@AAPL\"";
  });
  ASSERT_TRUE(trade);
  EXPECT_EQ(json_field(trade->data, "data").find(R"({"e":"trade","s":"AAPL")"), 0u);
  auto ticker = c.read_until([](const ws_message& m) {
    return is_type(m, "event") && json_field(m.data, "topic") == "\"ticker@AAPL\"";
  });
  ASSERT_TRUE(ticker);
}

TEST(node, environment_port_is_honoured) {
  // WS_PORT is read when no --ws.port flag is given.
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor probe{ioc, {boost::asio::ip::make_address("127.0.0.1"), 0}};
  auto port = probe.local_endpoint().port();
  probe.close();
  auto cmd = "WS_PORT=" + std::to_string(port) + " WS_HOST=127.0.0.1 timeout -s INT 2 "
             + tickgate_binary() + " --log-level=off > /dev/null 2>&1 &";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  EXPECT_TRUE(eventually([&] {
    try {
      return http_request(port, "GET", "/health").status == 200;
    } catch (...) {
      return false;
    }
  }, 3000ms));
}

TEST(node, a_client_that_stops_reading_is_dropped_and_others_lose_nothing) {
  node_process node({"--ws.outbound-max-messages=5", "--ws.handshake-timeout=1s",
                     "--ws.max-http-body-bytes=1000000"});
  ws_client fast{node.port()};
  subscribe(fast, 1, {"t"});
  // A raw client with a tiny receive buffer: subscribes, then never reads.
  boost::asio::io_context ioc;
  auto s = raw_websocket(ioc, node.port(), 4096);
  std::string sub = R"({"op":"subscribe","id":1,"topics":["t"]})";
  std::string frame{"\x81", 1};
  frame.push_back(static_cast<char>(0x80 | sub.size()));
  frame.append(4, '\0'); // mask key 0: payload unchanged
  frame += sub;
  boost::asio::write(s, boost::asio::buffer(frame));
  ASSERT_TRUE(eventually([&] {
    return json_field(http_request(node.port(), "GET", "/health").body, "subscriptions") == "2";
  }));
  std::string big = "\"" + std::string(200000, 'x') + "\"";
  for (int i = 1; i <= 40; ++i) {
    ASSERT_EQ(publish(node.port(), "t", big), 200);
    auto ev = next_event(fast);
    ASSERT_TRUE(ev) << "fast client lost event " << i;
    EXPECT_EQ(json_field(ev->data, "seq"), std::to_string(i));
  }
  EXPECT_EQ(node_stat(node.port(), "conn", "slow_closed"), 1);
  // The stalled client is gone within the close deadline, subscriptions too.
  // The session counts its end at once; its connection actor then leaves the
  // topic (a message later), so the subscription count follows shortly after.
  EXPECT_TRUE(eventually([&] {
    return json_field(http_request(node.port(), "GET", "/health").body, "connections") == "1";
  }, 5000ms));
  EXPECT_TRUE(eventually([&] {
    return json_field(http_request(node.port(), "GET", "/health").body, "subscriptions") == "1";
  }, 2000ms));
}

TEST(node, head_health_has_no_body_and_bad_node_ids_are_refused) {
  node_process node;
  auto head = http_request(node.port(), "HEAD", "/health");
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.body.empty());
  auto cmd = tickgate_binary() + " --node-id='a\"b' --ws.port=0 > /dev/null 2>&1";
  auto status = std::system(cmd.c_str());
  EXPECT_EQ(WEXITSTATUS(status), 2);
}

TEST(node, a_port_in_use_is_reported_and_the_node_exits_at_once) {
  node_process first;
  auto cmd = "timeout 10 " + tickgate_binary() + " --ws.host=127.0.0.1 --ws.port="
             + std::to_string(first.port()) + " --admin.port=0 --log-level=error > /dev/null 2>&1";
  auto started = std::chrono::steady_clock::now();
  auto status = std::system(cmd.c_str());
  EXPECT_EQ(WEXITSTATUS(status), 1); // not 124: it did not hang
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
}
