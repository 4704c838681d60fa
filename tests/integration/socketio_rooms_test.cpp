// The Socket.IO namespace system's rooms and limits against the real binary,
// with raw Engine.IO frames: a /user connection's own rooms and
// connection.authenticated, /market subscribe {symbols, channels}, prices:
// rooms, limits.max-channels-per-user across connections of one user and
// limits.max-rooms-per-namespace.

#include <algorithm>
#include <regex>
#include <string>

#include <gtest/gtest.h>

#include "support/json_fields.hpp"
#include "support/jwt_tokens.hpp"
#include "support/node_process.hpp"
#include "support/ws_client.hpp"

using namespace std::chrono_literals;
using namespace tickgate::test;

namespace {

const std::string secret = "tickgate-rooms-secret";
const std::string sio_path = "/socket.io/?EIO=4&transport=websocket";

std::vector<std::string> auth_node(std::vector<std::string> more = {}) {
  more.push_back("--auth.jwt-secret=" + secret);
  more.push_back("--auth.leeway=0s");
  return more;
}

std::string token_for(const std::string& user, int64_t ttl_s = 300) {
  token_spec t;
  t.key = secret;
  t.sub = user;
  t.exp = now_s() + ttl_s;
  return t.sign();
}

std::string next(ws_client& c, std::chrono::milliseconds t = 5000ms) {
  auto m = c.read(t);
  if (!m)
    return "<nothing>";
  return std::regex_replace(epochs_masked(m->data), std::regex{R"("sid":"[0-9a-f]{16}#\d+")"},
                            R"("sid":"S")");
}

int publish(uint16_t port, const std::string& body) {
  return http_request(port, "POST", "/api/publish", body).status;
}

// A Socket.IO connection with namespace `ns` connected (token: its auth.token).
struct sio_client {
  ws_client ws;
  sio_client(uint16_t port, const std::string& ns, const std::string& token = "") : ws{port, sio_path} {
    next(ws); // Engine.IO open
    connect(ns, token);
  }
  void connect(const std::string& ns, const std::string& token = "") {
    auto prefix = ns == "/" ? std::string{} : ns + ",";
    ws.send_text("40" + prefix + (token.empty() ? "" : R"({"token":")" + token + R"("})"));
    EXPECT_EQ(next(ws), "40" + prefix + R"({"sid":"S"})");
    EXPECT_EQ(next(ws), "42" + prefix + R"(["connected",{"sid":"S","namespace":")" + ns + R"("}])");
  }
};

int64_t subscriptions(uint16_t port) {
  return node_stat(port, "topic", "subscriptions");
}

} // namespace

TEST(user_namespace, an_authenticated_client_is_in_its_own_rooms_and_hears_their_named_events) {
  node_process node{auth_node()};
  sio_client alice{node.port(), "/user", token_for("alice")};
  // Sent once the rooms are joined: what is published from now on arrives.
  EXPECT_EQ(next(alice.ws), R"(42/user,["connection.authenticated",{"userId":"alice","rooms":)"
                            R"(["user:alice","orders:alice","positions:alice","wallet:alice"]}])");
  // One topic carries several event names, in publish order (topics are
  // published one at a time: order holds per topic only).
  ASSERT_EQ(publish(node.port(), R"([{"topic":"orders:alice","event":"order.new","data":{"id":1}},)"
                                 R"({"topic":"orders:alice","event":"order.filled","data":{"id":1,"qty":2}}])"),
            200);
  EXPECT_EQ(next(alice.ws), R"(42/user,["order.new",{"id":1}])");
  EXPECT_EQ(next(alice.ws), R"(42/user,["order.filled",{"id":1,"qty":2}])");
  ASSERT_EQ(publish(node.port(), R"({"topic":"positions:alice","event":"position.liquidated","data":{"p":"BTC"}})"),
            200);
  EXPECT_EQ(next(alice.ws), R"(42/user,["position.liquidated",{"p":"BTC"}])");
  ASSERT_EQ(publish(node.port(), R"({"topic":"wallet:alice","data":{"bal":"10"}})"), 200);
  EXPECT_EQ(next(alice.ws), R"(42/user,["wallet.update",{"bal":"10"}])"); // unnamed: the room's name

  // Another user has rooms of its own and cannot join alice's.
  sio_client bob{node.port(), "/user", token_for("bob")};
  EXPECT_EQ(next(bob.ws).find(R"("userId":"bob")") != std::string::npos, true);
  bob.ws.send_text(R"(42/user,1["join_room",{"room":"orders:alice"}])");
  EXPECT_EQ(next(bob.ws), R"(43/user,1[{"success":false,"error":"orders:alice is a private topic )"
                          R"(of another user","code":"forbidden"}])");
  ASSERT_EQ(publish(node.port(), R"({"topic":"orders:alice","event":"order.cancelled","data":{}})"), 200);
  EXPECT_EQ(next(alice.ws), R"(42/user,["order.cancelled",{}])");
  EXPECT_EQ(next(bob.ws, 300ms), "<nothing>");

  // An anonymous client of /user joins nothing and is told nothing.
  sio_client anonymous{node.port(), "/user"};
  EXPECT_EQ(next(anonymous.ws, 300ms), "<nothing>");

  // Leaving the namespace leaves the rooms.
  auto before = subscriptions(node.port());
  alice.ws.send_text("41/user,");
  ASSERT_TRUE(eventually([&] { return subscriptions(node.port()) == before - 4; }))
    << subscriptions(node.port());
  ASSERT_EQ(publish(node.port(), R"({"topic":"orders:alice","event":"order.new","data":{}})"), 200);
  EXPECT_EQ(next(alice.ws, 300ms), "<nothing>");
}

TEST(user_namespace, the_rooms_close_when_the_token_expires) {
  node_process node{auth_node()};
  sio_client alice{node.port(), "/user", token_for("alice", 2)};
  ASSERT_NE(next(alice.ws).find("connection.authenticated"), std::string::npos);
  EXPECT_EQ(next(alice.ws, 5000ms),
            R"(42/user,["error",{"message":"token expired; subscriptions closed: orders:alice )"
            R"(positions:alice user:alice wallet:alice","code":"unauthorized"}])");
  ASSERT_EQ(publish(node.port(), R"({"topic":"orders:alice","event":"order.new","data":{}})"), 200);
  EXPECT_EQ(next(alice.ws, 300ms), "<nothing>");
}

TEST(user_namespace, the_rooms_close_when_the_connection_proves_another_identity) {
  node_process node{auth_node()};
  sio_client c{node.port(), "/user", token_for("alice")};
  ASSERT_NE(next(c.ws).find("connection.authenticated"), std::string::npos);
  // Another namespace connected with bob's token: the connection is bob now.
  c.ws.send_text(R"(40/market,{"token":")" + token_for("bob") + R"("})");
  std::vector<std::string> frames{next(c.ws), next(c.ws), next(c.ws)};
  EXPECT_EQ(std::count(frames.begin(), frames.end(),
                       R"(42/user,["error",{"message":"authenticated as another user; subscriptions )"
                       R"(closed: orders:alice positions:alice user:alice wallet:alice","code":"forbidden"}])"),
            1)
    << frames[0] << "\n" << frames[1] << "\n" << frames[2];
  ASSERT_EQ(publish(node.port(), R"({"topic":"orders:alice","event":"order.new","data":{}})"), 200);
  EXPECT_EQ(next(c.ws, 300ms), "<nothing>");
}

TEST(market_namespace, subscribe_takes_symbols_and_channels_and_joins_market_rooms) {
  node_process node;
  sio_client c{node.port(), "/market"};
  c.ws.send_text(R"(42/market,1["subscribe",{"symbols":["BTC-USD"],"channels":["stats","ticker"]}])");
  EXPECT_EQ(next(c.ws), R"(43/market,1[{"success":true,"symbols":["BTC-USD"],"channels":["stats","ticker"],)"
                        R"("rooms":["market:stats:BTC-USD","market:ticker:BTC-USD"],"positions":{)"
                        R"("market:stats:BTC-USD":{"epoch":"E","seq":0},"market:ticker:BTC-USD":{"epoch":"E","seq":0}}}])");
  EXPECT_EQ(next(c.ws), R"(42/market,["subscription.confirmed",{"action":"subscribe","symbols":["BTC-USD"],)"
                        R"("channels":["stats","ticker"],"rooms":["market:stats:BTC-USD","market:ticker:BTC-USD"]}])");
  // Rooms the request did not name stay silent: a delivery of market:depth
  // would show up among the frames read below.
  ASSERT_EQ(publish(node.port(), R"({"topic":"market:depth:BTC-USD","data":{"skipped":true}})"), 200);
  ASSERT_EQ(publish(node.port(), R"({"topic":"market:stats:BTC-USD","data":{"vol":"1"}})"), 200);
  EXPECT_EQ(next(c.ws), R"(42/market,["market.stats",{"vol":"1"}])");
  ASSERT_EQ(publish(node.port(), R"({"topic":"market:ticker:BTC-USD","event":"market.ticker","data":{"last":"2"}})"),
            200);
  EXPECT_EQ(next(c.ws), R"(42/market,["market.ticker",{"last":"2"}])");
  c.ws.send_text(R"(42/market,2["unsubscribe",{"symbols":["BTC-USD"],"channels":"ticker"}])");
  EXPECT_EQ(next(c.ws), R"(43/market,2[{"success":true,"symbols":["BTC-USD"],"channels":["ticker"],)"
                        R"("rooms":["market:ticker:BTC-USD"]}])");
  next(c.ws); // subscription.confirmed
  c.ws.send_text(R"(42/market,3["subscribe",{"symbols":["BTC-USD"],"channels":["candles"]}])");
  EXPECT_EQ(next(c.ws), R"x(43/market,3[{"success":false,"error":"unknown channel candles (expected stats, )x"
                        R"x(depth, trades, ticker)","code":"bad_request"}])x");
  ASSERT_EQ(publish(node.port(), R"({"topic":"market:ticker:BTC-USD","data":{}})"), 200);
  ASSERT_EQ(publish(node.port(), R"({"topic":"market:stats:BTC-USD","data":{"vol":"3"}})"), 200);
  EXPECT_EQ(next(c.ws), R"(42/market,["market.stats",{"vol":"3"}])");

  // prices:{symbol} rooms carry price.update and, named so, price.trade.
  sio_client root{node.port(), "/"};
  root.ws.send_text(R"(421["join_room",{"room":"prices:BTC-USD"}])");
  ASSERT_EQ(next(root.ws).rfind(R"(431[{"success":true,"room":"prices:BTC-USD")", 0), 0u);
  ASSERT_EQ(publish(node.port(), R"([{"topic":"prices:BTC-USD","data":{"p":"1"}},)"
                                 R"({"topic":"prices:BTC-USD","event":"price.trade","data":{"q":"2"}}])"),
            200);
  EXPECT_EQ(next(root.ws), R"(42["price.update",{"p":"1"}])");
  EXPECT_EQ(next(root.ws), R"(42["price.trade",{"q":"2"}])");
}

TEST(user_limits, one_users_subscriptions_are_capped_across_its_connections) {
  node_process node{auth_node({"--limits.max-channels-per-user=3"})};
  auto token = token_for("alice");
  ws_client a{node.port(), "/v1", http_header{"Authorization", "Bearer " + token}};
  ws_client b{node.port(), "/v1", http_header{"Authorization", "Bearer " + token}};
  a.send_text(R"({"op":"subscribe","id":1,"topics":["t1","t2"]})");
  EXPECT_EQ(json_string(next(a), "type"), "ack");
  b.send_text(R"({"op":"subscribe","id":2,"topics":["t3","t4"]})");
  EXPECT_EQ(next(b), R"({"type":"error","id":2,"code":"limit_exceeded","message":"limits.max-channels-per-user: )"
                     R"x(subscribing to 2 more would exceed the limit of 3 subscriptions per user (user alice )x"
                     R"x(holds 2 on this node)"})x");
  b.send_text(R"({"op":"subscribe","id":3,"topics":["t3"]})");
  EXPECT_EQ(json_string(next(b), "type"), "ack");
  // Unsubscribing gives room back; so does a connection that goes away.
  a.send_text(R"({"op":"unsubscribe","id":4,"topics":["t1"]})");
  EXPECT_EQ(json_string(next(a), "type"), "ack");
  b.send_text(R"({"op":"subscribe","id":5,"topics":["t4"]})");
  EXPECT_EQ(json_string(next(b), "type"), "ack");
  b.send_text(R"({"op":"subscribe","id":6,"topics":["t5"]})");
  EXPECT_EQ(json_string(next(b), "code"), "limit_exceeded");
  a.close();
  ASSERT_TRUE(eventually([&] { return subscriptions(node.port()) == 2; }));
  b.send_text(R"({"op":"subscribe","id":7,"topics":["t5"]})");
  EXPECT_EQ(json_string(next(b), "type"), "ack");
  // Anonymous clients are not counted by user.
  ws_client anon{node.port(), "/v1"};
  anon.send_text(R"({"op":"subscribe","id":8,"topics":["t1","t2","t3","t4"]})");
  EXPECT_EQ(json_string(next(anon), "type"), "ack");
  EXPECT_EQ(node_metric(node.port(), R"(tickgate_limit_refusals_total{limit="channels_per_user"})"), 2);
}

TEST(user_limits, a_socket_io_connection_joins_a_bounded_number_of_rooms_per_namespace) {
  node_process node{{"--limits.max-rooms-per-namespace=2"}};
  sio_client c{node.port(), "/"};
  c.ws.send_text(R"(421["join_room",{"room":"price:A"}])");
  ASSERT_EQ(next(c.ws).rfind("431[{\"success\":true", 0), 0u);
  c.ws.send_text(R"(422["join_room",{"room":"price:B"}])");
  ASSERT_EQ(next(c.ws).rfind("432[{\"success\":true", 0), 0u);
  c.ws.send_text(R"(423["join_room",{"room":"price:C"}])");
  EXPECT_EQ(next(c.ws), R"(433[{"success":false,"error":"limits.max-rooms-per-namespace: joining 1 more )"
                        R"x(room(s) would exceed the limit of 2 per namespace (/ holds 2)","code":"limit_exceeded"}])x");
  // Without an ack the error comes as an event.
  c.ws.send_text(R"(42["join_room",{"room":"price:C"}])");
  EXPECT_EQ(next(c.ws), R"(42["error",{"message":"limits.max-rooms-per-namespace: joining 1 more )"
                        R"x(room(s) would exceed the limit of 2 per namespace (/ holds 2)","code":"limit_exceeded"}])x");
  // Another namespace of the same connection has a limit of its own.
  c.connect("/prices");
  c.ws.send_text(R"(42/prices,4["subscribe",{"symbols":["C","D"]}])");
  ASSERT_EQ(next(c.ws).rfind("43/prices,4[{\"success\":true", 0), 0u);
  next(c.ws); // subscription.confirmed
  c.ws.send_text(R"(425["leave_room",{"room":"price:A"}])");
  ASSERT_EQ(next(c.ws).rfind("435[{\"success\":true", 0), 0u);
  c.ws.send_text(R"(426["join_room",{"room":"price:E"}])");
  ASSERT_EQ(next(c.ws).rfind("436[{\"success\":true", 0), 0u);
  EXPECT_EQ(node_metric(node.port(), R"(tickgate_limit_refusals_total{limit="rooms_per_namespace"})"), 2);
}
