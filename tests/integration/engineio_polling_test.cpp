// Socket.IO clients on Engine.IO v4 HTTP long-polling, against the real
// binary: the unmodified socket.io-client with default options (polling,
// then the WebSocket upgrade) and polling only, and the wire format of the
// polling requests byte for byte.

#include <future>
#include <regex>
#include <string>

#include <gtest/gtest.h>

#include "support/json_fields.hpp"
#include "support/node_process.hpp"
#include "support/raw_upgrade.hpp"
#include "support/ws_client.hpp"

using namespace std::chrono_literals;
using namespace tickgate::test;

namespace {

const std::string polling = "/socket.io/?EIO=4&transport=polling";

std::string sid_of(const std::string& open) {
  std::smatch m;
  if (!std::regex_search(open, m, std::regex{R"re("sid":"([^"]+)")re"}))
    return {};
  return m[1];
}

// A handshake; returns the sid.
std::string open_session(uint16_t port) {
  auto r = http_request(port, "GET", polling);
  EXPECT_EQ(r.status, 200) << r.body;
  return sid_of(r.body);
}

http_result get(uint16_t port, const std::string& sid) {
  return http_request(port, "GET", polling + "&sid=" + sid);
}

http_result post(uint16_t port, const std::string& sid, const std::string& body) {
  return http_request(port, "POST", polling + "&sid=" + sid, body);
}

std::string masked(std::string s) {
  s = std::regex_replace(s, std::regex{R"("sid":"[^"]+")"}, R"("sid":"S")");
  return std::regex_replace(s, std::regex{"\x1e"}, "|");
}

command_result run_client(uint16_t port, const char* mode) {
  auto script = std::string{TICKGATE_SOURCE_DIR} + "/tests/socketio/polling_test.js";
  return run_command("node " + script + " " + std::to_string(port) + " " + mode);
}

} // namespace

TEST(socketio_polling, the_unmodified_socket_io_client_with_default_options_upgrades_without_losing_an_event) {
  node_process node;
  auto r = run_client(node.port(), "upgrade");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("polling: all checks passed"), std::string::npos) << r.out;
  EXPECT_EQ(node_stat(node.port(), "polling", "upgrades"), 1);
  EXPECT_TRUE(eventually([&] { return node_stat(node.port(), "conn", "open") == 0; }));
  EXPECT_EQ(node_stat(node.port(), "polling", "open"), 0);
}

TEST(socketio_polling, the_unmodified_socket_io_client_on_polling_only_joins_receives_acks_and_closes) {
  node_process node({"--ws.ping-interval=1s", "--ws.pong-timeout=1s"});
  auto r = run_client(node.port(), "polling");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("polling: all checks passed"), std::string::npos) << r.out;
  // The client's close packet ended the session, and its connection.
  EXPECT_TRUE(eventually([&] { return node_stat(node.port(), "conn", "open") == 0; }));
  EXPECT_EQ(node_stat(node.port(), "polling", "open"), 0);
  EXPECT_EQ(node_stat(node.port(), "polling", "closed_timeout"), 0);
  EXPECT_EQ(node_stat(node.port(), "polling", "upgrades"), 0);
}

TEST(socketio_polling, handshake_batches_and_acks_on_the_wire) {
  node_process node;
  auto open = http_request(node.port(), "GET", polling + "&t=abc");
  ASSERT_EQ(open.status, 200) << open.body;
  EXPECT_TRUE(std::regex_match(
    open.body, std::regex{R"(0\{"sid":"[A-Za-z0-9_-]{20}","upgrades":\["websocket"\],"pingInterval":30000,"pingTimeout":10000,"maxPayload":65536\})"}))
    << open.body;
  auto sid = sid_of(open.body);
  // Two packets in one POST: the namespace CONNECT and an event with an ack.
  auto sent = post(node.port(), sid, "40\x1e" R"(421["join_room",{"room":"price:W"}])");
  EXPECT_EQ(sent.status, 200);
  EXPECT_EQ(sent.body, "ok");
  // Everything queued comes back in one GET, joined with the record separator.
  std::string got;
  ASSERT_TRUE(eventually([&] {
    got += (got.empty() ? "" : "|") + masked(get(node.port(), sid).body);
    return got.find("431[") != std::string::npos;
  }));
  EXPECT_EQ(epochs_masked(got), R"(40{"sid":"S"}|42["connected",{"sid":"S","namespace":"/"}]|)"
                                R"(431[{"success":true,"room":"price:W","positions":{"price:W":{"epoch":"E","seq":0}}}])");
  // A waiting GET is answered by the next event.
  auto waiting = std::async(std::launch::async, [&] { return get(node.port(), sid); });
  ASSERT_EQ(http_request(node.port(), "POST", "/api/publish",
                         R"({"topic":"price:W","data":{"p":1}})").status, 200);
  auto event = waiting.get();
  EXPECT_EQ(event.status, 200);
  EXPECT_EQ(event.body, R"(42["price_update",{"p":1}])");
  // The client's close packet ends the session.
  EXPECT_EQ(post(node.port(), sid, "1").body, "ok");
  EXPECT_TRUE(eventually([&] { return node_stat(node.port(), "conn", "open") == 0; }));
}

TEST(socketio_polling, an_unknown_sid_gets_engine_io_s_400) {
  node_process node;
  auto r = get(node.port(), "nosuchsession");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, R"({"code":1,"message":"Session ID unknown"})");
  EXPECT_EQ(post(node.port(), "nosuchsession", "40").status, 400);
  auto ws = http_request(node.port(), "GET", "/socket.io/?EIO=4&transport=carrier-pigeon");
  EXPECT_EQ(ws.status, 400);
  EXPECT_EQ(ws.body, R"({"code":0,"message":"Transport unknown"})");
  auto handshake_post = http_request(node.port(), "POST", polling, "40");
  EXPECT_EQ(handshake_post.body, R"({"code":2,"message":"Bad handshake method"})");
  EXPECT_EQ(node_stat(node.port(), "polling", "bad_requests"), 4);
}

TEST(socketio_polling, a_second_concurrent_get_closes_the_session) {
  node_process node;
  auto sid = open_session(node.port());
  // Whichever GET the node sees second is refused, and the first is
  // answered with the close packet.
  auto first = std::async(std::launch::async, [&] { return get(node.port(), sid); });
  auto second = std::async(std::launch::async, [&] { return get(node.port(), sid); });
  auto a = first.get();
  auto b = second.get();
  auto refused = a.status == 400 ? a : b;
  auto closed = a.status == 400 ? b : a;
  EXPECT_EQ(refused.status, 400);
  EXPECT_EQ(refused.body, R"({"code":3,"message":"Bad request"})");
  EXPECT_EQ(closed.status, 200);
  EXPECT_EQ(closed.body, "1");
  EXPECT_EQ(get(node.port(), sid).status, 400); // the sid is gone
  EXPECT_TRUE(eventually([&] { return node_stat(node.port(), "conn", "open") == 0; }));
}

TEST(socketio_polling, a_session_that_stops_polling_is_closed_after_ping_interval_and_timeout) {
  node_process node({"--ws.ping-interval=1s", "--ws.pong-timeout=1s"});
  auto sid = open_session(node.port());
  EXPECT_EQ(post(node.port(), sid, "40").body, "ok");
  EXPECT_EQ(node_stat(node.port(), "polling", "open"), 1);
  ASSERT_TRUE(eventually([&] { return node_stat(node.port(), "polling", "closed_timeout") == 1; }));
  EXPECT_EQ(node_stat(node.port(), "polling", "open"), 0);
  EXPECT_TRUE(eventually([&] { return node_stat(node.port(), "conn", "open") == 0; }));
  EXPECT_EQ(get(node.port(), sid).body, R"({"code":1,"message":"Session ID unknown"})");
}

TEST(socketio_polling, a_session_that_answers_pings_stays_open) {
  node_process node({"--ws.ping-interval=1s", "--ws.pong-timeout=1s"});
  auto sid = open_session(node.port());
  // Three ping rounds: each GET brings the ping, a POST answers it.
  for (int i = 0; i < 3; ++i) {
    auto r = get(node.port(), sid);
    ASSERT_EQ(r.body, "2") << i;
    ASSERT_EQ(post(node.port(), sid, "3").body, "ok");
  }
  EXPECT_EQ(node_stat(node.port(), "polling", "closed_timeout"), 0);
  EXPECT_EQ(node_stat(node.port(), "polling", "open"), 1);
}

TEST(socketio_polling, a_client_that_stops_polling_under_load_is_closed_as_a_slow_consumer) {
  node_process node({"--ws.outbound-max-messages=8"});
  auto sid = open_session(node.port());
  post(node.port(), sid, "40\x1e" R"(421["join_room",{"room":"price:S"}])");
  ASSERT_TRUE(eventually([&] { return get(node.port(), sid).body.find("431[") != std::string::npos; }));
  for (int i = 0; i < 20; ++i)
    http_request(node.port(), "POST", "/api/publish",
                 R"({"topic":"price:S","data":{"i":)" + std::to_string(i) + "}}");
  ASSERT_TRUE(eventually([&] { return node_stat(node.port(), "polling", "closed_overflow") == 1; }));
  EXPECT_EQ(node_stat(node.port(), "conn", "slow_closed"), 1);
  EXPECT_EQ(get(node.port(), sid).status, 400);
  EXPECT_TRUE(eventually([&] { return node_stat(node.port(), "conn", "open") == 0; }));
}

TEST(socketio_polling, a_websocket_upgrade_for_an_unknown_sid_is_refused) {
  node_process node;
  boost::asio::io_context ioc;
  auto r = upgrade(ioc, node.port(), "", 0, "/socket.io/?EIO=4&transport=websocket&sid=nosuchsession");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, R"({"code":1,"message":"Session ID unknown"})");
}

TEST(socketio_polling, the_upgrade_probe_and_switch_on_the_wire) {
  node_process node;
  auto sid = open_session(node.port());
  post(node.port(), sid, "40\x1e" R"(421["join_room",{"room":"price:U"}])");
  ASSERT_TRUE(eventually([&] { return get(node.port(), sid).body.find("431[") != std::string::npos; }));
  auto waiting = std::async(std::launch::async, [&] { return get(node.port(), sid); });
  ws_client ws{node.port(), "/socket.io/?EIO=4&transport=websocket&sid=" + sid};
  ws.send_text("2probe");
  auto pong = ws.read();
  ASSERT_TRUE(pong);
  EXPECT_EQ(pong->data, "3probe");
  EXPECT_EQ(waiting.get().body, "6"); // the poll is released so the client can pause
  // Queued for polling until the client's "5", then carried by the WebSocket.
  ASSERT_EQ(http_request(node.port(), "POST", "/api/publish",
                         R"({"topic":"price:U","data":{"p":1}})").status, 200);
  ws.send_text("5");
  auto first = ws.read();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->data, R"(42["price_update",{"p":1}])");
  ASSERT_EQ(http_request(node.port(), "POST", "/api/publish",
                         R"({"topic":"price:U","data":{"p":2}})").status, 200);
  auto second = ws.read();
  ASSERT_TRUE(second);
  EXPECT_EQ(second->data, R"(42["price_update",{"p":2}])");
  // The same connection answers over the WebSocket now.
  ws.send_text(R"(427["leave_room",{"room":"price:U"}])");
  auto left = ws.read();
  ASSERT_TRUE(left);
  EXPECT_EQ(left->data, R"(437[{"success":true,"room":"price:U"}])");
  EXPECT_EQ(get(node.port(), sid).body, R"({"code":3,"message":"Bad request"})");
  EXPECT_EQ(node_stat(node.port(), "polling", "upgrades"), 1);
  EXPECT_EQ(node_stat(node.port(), "polling", "open"), 0);
  EXPECT_EQ(node_stat(node.port(), "conn", "open"), 1);
}
