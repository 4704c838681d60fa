// The seed dialects against the real binary, frame for frame. Timestamps
// (milliseconds, server time) are compared as "T".

#include <fstream>
#include <regex>
#include <set>
#include <sys/wait.h>
#include <string>

#include <gtest/gtest.h>

#include "support/json_fields.hpp"
#include "support/node_process.hpp"
#include "support/redis_process.hpp"
#include "support/ws_client.hpp"

using namespace std::chrono_literals;
using namespace tickgate::test;

namespace {

std::string norm(const std::string& s) {
  // Only the envelope's own timestamp (last field, or before "id").
  static const std::regex ts{R"("timestamp":\d{13}(?=\}$|,"id":))"};
  return epochs_masked(std::regex_replace(s, ts, R"("timestamp":T)"));
}

std::string next(ws_client& c, std::chrono::milliseconds t = 5000ms) {
  auto m = c.read(t);
  return m ? norm(m->data) : "<nothing>";
}

int publish(uint16_t port, const std::string& topic, const std::string& data) {
  return http_request(port, "POST", "/api/publish",
                      R"({"topic":")" + topic + R"(","data":)" + data + "}")
    .status;
}

} // namespace

TEST(action_protocol, subscribe_events_limits_and_errors_match_the_seed) {
  node_process node;
  ws_client c{node.port(), "/"};
  c.send_text(R"({"action":"subscribe","symbols":["AAPL","googl"]})");
  EXPECT_EQ(next(c), R"x({"type":"success","message":"Successfully subscribed to 2 symbol(s)",)x"
                     R"("data":{"subscribed":["AAPL","GOOGL"],"currentSubscriptions":["AAPL","GOOGL"]},"timestamp":T})");
  ASSERT_EQ(publish(node.port(), "channel:trade:AAPL",
                    R"({"symbol":"AAPL","price":150.25,"volume":100,"timestamp":1763800000000,"exchange":"NASDAQ"})"),
            200);
  EXPECT_EQ(next(c), R"({"type":"trade","data":{"symbol":"AAPL","price":150.25,"volume":100,)"
                     R"("timestamp":1763800000000,"exchange":"NASDAQ"},"timestamp":T})");
  c.send_text(R"({"action":"subscribe","symbols":["A","B","C","D"]})");
  EXPECT_EQ(next(c), R"({"type":"error","message":"Cannot subscribe: would exceed maximum of 5 symbols","timestamp":T})");
  c.send_text(R"({"action":"unsubscribe","symbols":["GOOGL"]})");
  EXPECT_EQ(next(c), R"x({"type":"success","message":"Successfully unsubscribed from 1 symbol(s)",)x"
                     R"("data":{"unsubscribed":["GOOGL"],"currentSubscriptions":["AAPL"]},"timestamp":T})");
  c.send_text(R"({"action":"ping"})");
  EXPECT_EQ(next(c), R"({"type":"pong","timestamp":T})");
  c.send_text("not json");
  EXPECT_EQ(next(c), R"({"type":"error","message":"Invalid message format","timestamp":T})");
  c.send_text(R"({"action":"launch"})");
  EXPECT_EQ(next(c), R"({"type":"error","message":"Unknown action: launch","timestamp":T})");
  c.send_text(R"({"action":"subscribe","symbols":"AAPL"})");
  EXPECT_EQ(next(c), R"({"type":"error","message":"Symbols must be a non-empty array of strings","timestamp":T})");
}

TEST(stream_protocol, subscribe_list_unsubscribe_and_events_match_the_exchange_shape) {
  node_process node;
  ws_client c{node.port(), "/stream"};
  c.send_text(R"({"method":"SUBSCRIBE","params":["trade@TATA_INR","depth@TATA_INR"],"id":1})");
  EXPECT_EQ(next(c), R"({"result":null,"id":1})");
  ASSERT_EQ(publish(node.port(), "trade@TATA_INR",
                    R"({"e":"trade","t":12345,"m":false,"p":"1000.50","q":"10","s":"TATA_INR"})"),
            200);
  EXPECT_EQ(next(c), R"({"stream":"trade@TATA_INR","data":{"e":"trade","t":12345,"m":false,"p":"1000.50","q":"10","s":"TATA_INR"}})");
  ASSERT_EQ(publish(node.port(), "depth@TATA_INR",
                    R"({"a":[["1001.00","50"]],"b":[["1000.00","30"]],"e":"depth"})"),
            200);
  EXPECT_EQ(next(c), R"({"stream":"depth@TATA_INR","data":{"a":[["1001.00","50"]],"b":[["1000.00","30"]],"e":"depth"}})");
  c.send_text(R"({"method":"LIST_SUBSCRIPTIONS","id":"q"})");
  EXPECT_EQ(next(c), R"({"result":["depth@TATA_INR","trade@TATA_INR"],"id":"q"})");
  c.send_text(R"({"method":"UNSUBSCRIBE","params":["depth@TATA_INR"],"id":2})");
  EXPECT_EQ(next(c), R"({"result":null,"id":2})");
  c.send_text("{oops");
  EXPECT_EQ(next(c), R"({"error":{"code":3,"msg":"Invalid JSON"},"id":null})");
  c.send_text(R"({"method":"SUBSCRIBE","params":["bad name"],"id":4})");
  EXPECT_EQ(next(c), R"({"error":{"code":1,"msg":"Invalid request: bad stream name"},"id":4})");
  c.send_text(R"({"method":"TRADE","id":5})");
  EXPECT_EQ(next(c), R"({"error":{"code":2,"msg":"Invalid request: unknown method TRADE"},"id":5})");
}

TEST(stream_protocol, a_speed_suffix_names_the_stream_as_subscribed) {
  node_process node;
  ws_client c{node.port(), "/stream"};
  c.send_text(R"({"method":"SUBSCRIBE","params":["depth@TATA_INR@100ms"],"id":1})");
  EXPECT_EQ(next(c), R"({"result":null,"id":1})");
  ASSERT_EQ(publish(node.port(), "depth@TATA_INR", R"({"e":"depth"})"), 200);
  EXPECT_EQ(next(c), R"({"stream":"depth@TATA_INR@100ms","data":{"e":"depth"}})");
  c.send_text(R"({"method":"LIST_SUBSCRIPTIONS","id":2})");
  EXPECT_EQ(next(c), R"({"result":["depth@TATA_INR@100ms"],"id":2})");
  c.send_text(R"({"method":"SUBSCRIBE","params":["trade@TATA_INR","trade@TATA_INR@1000ms"],"id":3})");
  EXPECT_EQ(next(c), R"x({"error":{"code":2,"msg":"Invalid request: all streams of one SUBSCRIBE must have the same update speed (no suffix, @100ms or @1000ms)"},"id":3})x");
}

TEST(typed_envelope, greets_answers_pings_and_delivers_market_data) {
  node_process node;
  ws_client c{node.port(), "/ws"};
  auto hello = next(c);
  EXPECT_EQ(std::regex_replace(hello, std::regex{R"("clientId":"[0-9a-f]{16}")"}, R"("clientId":"C")"),
            R"({"type":"connection","data":{"clientId":"C","message":"Connected to tickgate"},"timestamp":T})");
  c.send_text(R"({"type":"ping","data":{"timestamp":1763800000123}})");
  EXPECT_EQ(next(c), R"({"type":"pong","data":{"timestamp":1763800000123},"timestamp":T})");
  c.send_text(R"({"type":"subscribe","data":{"symbols":["AAPL"]},"id":"r1"})");
  EXPECT_EQ(next(c), R"({"type":"subscribed","data":{"symbols":["AAPL"]},"timestamp":T,"id":"r1"})");
  ASSERT_EQ(publish(node.port(), "channel:trade:AAPL", R"({"symbol":"AAPL","price":150.25})"), 200);
  EXPECT_EQ(next(c), R"({"type":"market_data","data":{"symbol":"AAPL","price":150.25},"timestamp":T})");
  c.send_text(R"({"type":"unsubscribe","data":{"symbols":["AAPL"]}})");
  EXPECT_EQ(next(c), R"({"type":"unsubscribed","data":{"symbols":["AAPL"]},"timestamp":T})");
  c.send_text(R"({"type":"dance","id":7})");
  EXPECT_EQ(next(c), R"({"type":"error","data":{"message":"Unknown message type: dance","code":"unknown_op"},"timestamp":T,"id":7})");
  c.send_text(R"({"type":"subscribe","data":{}})");
  EXPECT_EQ(next(c), R"({"type":"error","data":{"message":"data.symbols must be a non-empty array of strings","code":"bad_request"},"timestamp":T})");
}

TEST(dialects, the_root_path_detects_each_dialect_from_the_first_frame) {
  node_process node;
  ws_client action{node.port(), "/"};
  ws_client stream{node.port(), "/"};
  ws_client native{node.port(), "/"};
  action.send_text(R"({"action":"ping"})");
  EXPECT_EQ(next(action), R"({"type":"pong","timestamp":T})");
  stream.send_text(R"({"method":"LIST_SUBSCRIPTIONS","id":1})");
  EXPECT_EQ(next(stream), R"({"result":[],"id":1})");
  native.send_text(R"({"op":"subscribe","id":1,"topics":["x"]})");
  EXPECT_EQ(next(native), R"({"type":"ack","id":1,"op":"subscribe","topics":["x"],"positions":{"x":{"epoch":"E","seq":0}}})");
}

TEST(dialects, all_four_side_by_side_on_one_node_and_one_redis) {
  redis_process redis;
  node_process node({"--redis.url=" + redis.url()});
  ws_client action{node.port(), "/"};
  ws_client typed{node.port(), "/ws"};
  ws_client stream{node.port(), "/stream"};
  ws_client native{node.port(), "/v1"};
  next(typed); // connection greeting
  action.send_text(R"({"action":"subscribe","symbols":["AAPL"]})");
  typed.send_text(R"({"type":"subscribe","data":{"symbols":["AAPL"]}})");
  stream.send_text(R"({"method":"SUBSCRIBE","params":["trade@AAPL"],"id":1})");
  native.send_text(R"({"op":"subscribe","id":1,"topics":["channel:trade:AAPL","trade@AAPL"]})");
  EXPECT_NE(next(action).find("success"), std::string::npos);
  EXPECT_NE(next(typed).find("subscribed"), std::string::npos);
  EXPECT_EQ(next(stream), R"({"result":null,"id":1})");
  EXPECT_NE(next(native).find("ack"), std::string::npos);
  auto channels = redis_command(redis.port(), {"PUBSUB", "CHANNELS"});
  std::sort(channels.begin(), channels.end());
  EXPECT_EQ(channels, (std::vector<std::string>{"channel:trade:AAPL", "channel:trade:AAPL#event",
                                                "channel:trade:AAPL#snapshot", "trade@AAPL",
                                                "trade@AAPL#event", "trade@AAPL#snapshot"}));
  redis_command(redis.port(), {"PUBLISH", "channel:trade:AAPL", R"({"price":1})"});
  redis_command(redis.port(), {"PUBLISH", "trade@AAPL", R"({"p":"2"})"});
  EXPECT_EQ(next(action), R"({"type":"trade","data":{"price":1},"timestamp":T})");
  EXPECT_EQ(next(typed), R"({"type":"market_data","data":{"price":1},"timestamp":T})");
  EXPECT_EQ(next(stream), R"({"stream":"trade@AAPL","data":{"p":"2"}})");
  // Order holds per topic; two topics' events may interleave either way.
  std::set<std::string> seen;
  for (int i = 0; i < 2; ++i) {
    auto n = next(native);
    auto pos = n.find(R"("topic":")");
    ASSERT_NE(pos, std::string::npos) << n;
    seen.insert(n.substr(pos + 9, n.find('"', pos + 9) - pos - 9));
  }
  EXPECT_EQ(seen, (std::set<std::string>{"channel:trade:AAPL", "trade@AAPL"}));
}

TEST(socketio, the_unmodified_socket_io_client_connects_subscribes_and_receives) {
  node_process node;
  auto script = std::string{TICKGATE_SOURCE_DIR} + "/tests/socketio/client_test.js";
  // Its output is captured, not written to a file another run could share.
  auto r = run_command("node " + script + " " + std::to_string(node.port()));
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("socketio: all checks passed"), std::string::npos) << r.out;
}

TEST(socketio, engine_io_frames_on_the_wire) {
  node_process node;
  ws_client c{node.port(), "/socket.io/?EIO=4&transport=websocket"};
  auto open = next(c);
  EXPECT_EQ(std::regex_replace(open, std::regex{R"("sid":"[0-9a-f]{16}")"}, R"("sid":"S")"),
            R"(0{"sid":"S","upgrades":[],"pingInterval":30000,"pingTimeout":10000,"maxPayload":65536})");
  c.send_text("40/prices,");
  auto ok = next(c);
  EXPECT_EQ(ok.rfind("40/prices,{\"sid\":", 0), 0u) << ok;
  EXPECT_EQ(next(c).rfind(R"(42/prices,["connected",)", 0), 0u);
  c.send_text(R"(42/prices,7["subscribe",{"symbols":["SOL-USDC"]}])");
  EXPECT_EQ(next(c), R"(43/prices,7[{"success":true,"symbols":["SOL-USDC"],"positions":{"SOL-USDC":{"epoch":"E","seq":0}}}])");
  EXPECT_EQ(next(c), R"(42/prices,["subscription.confirmed",{"action":"subscribe","symbols":["SOL-USDC"]}])");
  ASSERT_EQ(publish(node.port(), "price:SOL-USDC", R"({"p":"150"})"), 200);
  EXPECT_EQ(next(c), R"(42/prices,["price.update",{"p":"150"}])");
  c.send_text(R"(42/prices,["fly",{}])");
  EXPECT_EQ(next(c), R"(42/prices,["error",{"message":"unknown event fly","code":"unknown_op"}])");
  c.send_text("41/prices,"); // leaving the namespace drops its subscriptions
  // A namespace disconnect has no acknowledgement: wait until the node applied it.
  ASSERT_TRUE(eventually([&] {
    return http_request(node.port(), "GET", "/health").body.find(R"("subscriptions":0)")
           != std::string::npos;
  }));
  ASSERT_EQ(publish(node.port(), "price:SOL-USDC", R"({"p":"151"})"), 200);
  EXPECT_FALSE(c.read(300ms));
}

TEST(socketio, a_publication_named_by_its_publisher_keeps_its_name_on_every_protocol) {
  node_process node;
  ws_client sio{node.port(), "/socket.io/?EIO=4&transport=websocket"};
  next(sio); // open
  sio.send_text("40");
  next(sio);
  next(sio); // connected
  sio.send_text(R"(421["join_room",{"room":"trade:X7"}])");
  ASSERT_EQ(next(sio).rfind("431[", 0), 0u);
  ws_client native{node.port(), "/v1"};
  native.send_text(R"({"op":"subscribe","id":1,"topics":["trade:X7"]})");
  auto ack = next(native);
  ASSERT_NE(ack.find(R"("type":"ack")"), std::string::npos) << ack;
  // One topic carries several kinds of event, each under its own name; an
  // unnamed one keeps the namespace's name for the room.
  auto body = R"([{"topic":"trade:X7","event":"order.new","data":{"id":1}},)"
              R"({"topic":"trade:X7","event":"order.filled","data":{"id":1}},)"
              R"({"topic":"trade:X7","data":{"bal":3}}])";
  ASSERT_EQ(http_request(node.port(), "POST", "/api/publish", body).status, 200);
  EXPECT_EQ(next(sio), R"(42["order.new",{"id":1}])");
  EXPECT_EQ(next(sio), R"(42["order.filled",{"id":1}])");
  EXPECT_EQ(next(sio), R"(42["trade_notification",{"bal":3}])");
  EXPECT_EQ(json_field(next(native), "event"), R"("order.new")");
  EXPECT_EQ(json_field(next(native), "event"), R"("order.filled")");
  EXPECT_EQ(json_field(next(native), "event"), "<missing>");
  EXPECT_EQ(http_request(node.port(), "POST", "/api/publish",
                         R"({"topic":"trade:X7","event":"","data":1})").status, 400);
}

TEST(socketio, long_polling_is_served_and_old_protocol_versions_get_a_clear_400) {
  node_process node;
  // (integration/engineio_polling_test.cpp covers the polling transport.)
  auto polling = http_request(node.port(), "GET", "/socket.io/?EIO=4&transport=polling");
  EXPECT_EQ(polling.status, 200);
  EXPECT_EQ(polling.body.rfind(R"(0{"sid":)", 0), 0u) << polling.body;
  auto v3 = http_request(node.port(), "GET", "/socket.io/?EIO=3&transport=polling");
  EXPECT_EQ(v3.status, 400);
  EXPECT_NE(v3.body.find("Engine.IO 4"), std::string::npos) << v3.body;
}

TEST(socketio, a_topic_is_followed_in_one_namespace_per_connection) {
  node_process node;
  ws_client c{node.port(), "/socket.io/?EIO=4&transport=websocket"};
  next(c); // open
  c.send_text("40");
  next(c);
  next(c);
  c.send_text("40/prices,");
  next(c);
  next(c);
  c.send_text(R"(421["join_room",{"room":"price:X"}])");
  EXPECT_EQ(next(c), R"(431[{"success":true,"room":"price:X","positions":{"price:X":{"epoch":"E","seq":0}}}])");
  c.send_text(R"(42/prices,2["join_room",{"room":"price:X"}])");
  auto refused = next(c);
  EXPECT_EQ(refused.rfind(R"(43/prices,2[{"success":false,"error":"already subscribed to price:X in namespace /)", 0), 0u) << refused;
  // Leaving /prices does not touch what / subscribed.
  c.send_text("41/prices,");
  ASSERT_EQ(publish(node.port(), "price:X", R"({"p":"1"})"), 200);
  EXPECT_EQ(next(c), R"(42["price_update",{"p":"1"}])");
}

TEST(dialects, a_configured_initial_value_reaches_a_seed_dialect_client_on_subscribe) {
  node_process node({"--dialects.action-last=1"});
  ws_client native{node.port(), "/v1"};
  native.send_text(R"({"op":"subscribe","id":1,"topics":["channel:trade:AAPL"]})");
  next(native);
  ASSERT_EQ(publish(node.port(), "channel:trade:AAPL", R"({"price":1})"), 200);
  ASSERT_EQ(publish(node.port(), "channel:trade:AAPL", R"({"price":2})"), 200);
  next(native);
  next(native); // both are retained once the follower saw them
  ws_client action{node.port(), "/"};
  action.send_text(R"({"action":"subscribe","symbols":["AAPL"]})");
  auto ack = next(action);
  EXPECT_NE(ack.find("subscribed"), std::string::npos) << ack;
  auto first = next(action, 2000ms);
  EXPECT_NE(first.find(R"("price":2)"), std::string::npos) << first;
  EXPECT_EQ(next(action, 200ms), "<nothing>"); // one value, not the history
}
