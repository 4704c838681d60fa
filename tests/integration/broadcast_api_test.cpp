// POST /api/broadcast against the real binary: one body published to many
// topics through the node's publishing feed, counted, with clear 400s.

#include <string>

#include <gtest/gtest.h>

#include "support/json_fields.hpp"
#include "support/node_process.hpp"
#include "support/redis_process.hpp"
#include "support/ws_client.hpp"

using namespace std::chrono_literals;
using namespace tickgate::test;

namespace {

void subscribe(ws_client& c, const std::string& topic) {
  c.send_text(R"({"op":"subscribe","id":1,"topics":[")" + topic + R"("]})");
  auto ack = c.read();
  ASSERT_TRUE(ack);
  ASSERT_NE(ack->data.find(R"("type":"ack")"), std::string::npos) << ack->data;
}

http_result broadcast(uint16_t port, const std::string& body) {
  return http_request(port, "POST", "/api/broadcast", body);
}

} // namespace

TEST(broadcast_api, one_request_reaches_the_subscribers_of_every_named_topic) {
  node_process node;
  ws_client btc{node.port()};
  ws_client eth{node.port()};
  ws_client other{node.port()};
  subscribe(btc, "price:BTC");
  subscribe(eth, "price:ETH");
  subscribe(other, "price:SOL");
  auto r = broadcast(node.port(),
                     R"({"topics":["price:BTC","price:ETH"],"data":{"halt":true},"event":"market.halt"})");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"accepted":2})");
  for (auto* c : {&btc, &eth}) {
    auto ev = c->read();
    ASSERT_TRUE(ev);
    EXPECT_EQ(json_field(ev->data, "type"), R"("event")") << ev->data;
    EXPECT_EQ(json_field(ev->data, "data"), R"({"halt":true})");
    EXPECT_EQ(json_field(ev->data, "event"), R"("market.halt")");
    EXPECT_EQ(json_field(ev->data, "seq"), "1");
  }
  EXPECT_FALSE(other.read(300ms));
  EXPECT_EQ(node_stat(node.port(), "http", "broadcast_requests"), 1);
  EXPECT_EQ(node_stat(node.port(), "http", "broadcast_topics"), 2);
}

TEST(broadcast_api, goes_through_redis_when_the_node_uses_it) {
  redis_process redis;
  node_process node{{"--redis.url=" + redis.url()}};
  ws_client a{node.port()};
  ws_client b{node.port()};
  subscribe(a, "news:a");
  subscribe(b, "news:b");
  EXPECT_EQ(broadcast(node.port(), R"({"topics":["news:a","news:b"],"data":"hello"})").status, 200);
  for (auto* c : {&a, &b}) {
    auto ev = c->read();
    ASSERT_TRUE(ev);
    EXPECT_EQ(json_field(ev->data, "data"), R"("hello")") << ev->data;
  }
  EXPECT_GE(node_stat(node.port(), "bridge", "published"), 2);
}

TEST(broadcast_api, a_bad_request_gets_a_400_saying_what_is_wrong_and_publishes_nothing) {
  node_process node;
  ws_client c{node.port()};
  subscribe(c, "price:BTC");
  auto expect_400 = [&](const std::string& body, const std::string& error) {
    auto r = broadcast(node.port(), body);
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_EQ(json_string(r.body, "error"), error) << body;
  };
  expect_400(R"({"topics":["price:BTC"]})", "missing 'data'");
  expect_400(R"({"data":1})", "missing 'topics'");
  expect_400(R"({"topics":[],"data":1})", "'topics' names no topic");
  expect_400(R"({"topics":["price:BTC","no spaces"],"data":1})",
             "topics[1]: invalid topic name (1-128 characters from letters, digits and _-.:@/|=+)");
  expect_400("not json", "body is not valid JSON");
  std::string many = R"({"data":1,"topics":[)";
  for (int i = 0; i < 1001; ++i)
    many += (i ? ",\"t" : "\"t") + std::to_string(i) + "\"";
  expect_400(many + "]}", "at most 1000 topics per broadcast");
  EXPECT_EQ(http_request(node.port(), "GET", "/api/broadcast").status, 405);
  EXPECT_FALSE(c.read(300ms));
  EXPECT_EQ(node_stat(node.port(), "http", "broadcast_rejected"), 6);
}
