// GET /api/snapshot, /api/history and /api/market/snapshot against the real
// binary: the latest event per topic, history with and without a position,
// recovery refused for a wrong epoch or a seq no longer retained, paging,
// every bad parameter, the method, private topics and the typed envelope's
// market snapshot.

#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "proto/payload.hpp"
#include "support/json_fields.hpp"
#include "support/jwt_tokens.hpp"
#include "support/node_process.hpp"
#include "support/ws_client.hpp"

using namespace std::chrono_literals;
using namespace tickgate::test;

namespace {

void publish(uint16_t port, const std::string& topic, const std::string& data) {
  auto r = http_request(port, "POST", "/api/publish",
                        R"({"topic":")" + topic + R"(","data":)" + data + "}");
  ASSERT_EQ(r.status, 200) << r.body;
}

// A native client that follows `topics`, so each publication is known to be
// retained once the client has received it.
struct follower {
  ws_client ws;
  follower(uint16_t port, const std::string& topic) : ws{port} {
    ws.send_text(R"({"op":"subscribe","id":1,"topics":[")" + topic + R"("]})");
    auto ack = ws.read();
    EXPECT_TRUE(ack && json_string(ack->data, "type") == "ack") << (ack ? ack->data : "");
  }
  // Publishes `data` to `topic` and waits until it comes back.
  void publish_and_see(uint16_t port, const std::string& topic, const std::string& data) {
    publish(port, topic, data);
    auto ev = ws.read_until([](const ws_message& m) {
      return json_string(m.data, "type") == "event";
    });
    ASSERT_TRUE(ev) << "event not delivered";
  }
};

struct answer {
  int status = 0;
  std::string body;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
};

// GET `target`; the body parsed (a test fails on a body that is not JSON).
std::unique_ptr<answer> get(uint16_t port, const std::string& target,
                            const std::string& header = "", const std::string& value = "") {
  auto a = std::make_unique<answer>();
  auto r = header.empty() ? http_request(port, "GET", target)
                          : http_request_with_header(port, "GET", target, header, value);
  a->status = r.status;
  a->body = std::move(r.body);
  EXPECT_FALSE(a->parser.parse(a->body).get(a->doc)) << "not JSON: " << a->body;
  return a;
}

std::vector<uint64_t> seqs(simdjson::dom::element events) {
  std::vector<uint64_t> out;
  for (auto e : events.get_array())
    out.push_back(e["seq"].get_uint64().value());
  return out;
}

struct history_http : ::testing::Test {
  node_process node;
  uint16_t port() const { return node.port(); }
};

} // namespace

TEST_F(history_http, snapshot_gives_each_topics_latest_event_and_null_for_a_topic_without_one) {
  follower f{port(), "trade@AAPL"};
  f.publish_and_see(port(), "trade@AAPL", R"({"p":"189.10"})");
  auto before = tickgate::now_us();
  f.publish_and_see(port(), "trade@AAPL", R"({"p":"189.20","q":[1,2]})");

  auto a = get(port(), "/api/snapshot?topics=trade%40AAPL,trade@NEVER");
  ASSERT_EQ(a->status, 200) << a->body;
  auto aapl = a->doc["topics"]["trade@AAPL"];
  EXPECT_EQ(aapl["seq"].get_uint64().value(), 2u);
  EXPECT_FALSE(std::string{aapl["epoch"].get_string().value()}.empty());
  EXPECT_EQ(aapl["snapshot"].get_bool().value(), false);
  EXPECT_GE(aapl["ts"].get_int64().value(), before);
  EXPECT_LE(aapl["ts"].get_int64().value(), tickgate::now_us());
  EXPECT_EQ(simdjson::minify(aapl["data"]), R"({"p":"189.20","q":[1,2]})");
  EXPECT_TRUE(a->doc["topics"]["trade@NEVER"].is_null()) << a->body;
  // The epoch is the one live subscribers are told.
  auto h = get(port(), "/api/history?topic=trade@AAPL");
  EXPECT_EQ(aapl["epoch"].get_string().value(), h->doc["epoch"].get_string().value());
}

TEST_F(history_http, a_topic_first_polled_follows_its_feed_from_then_on) {
  // Nobody follows the topic: the first poll starts it, and has nothing yet.
  auto first = get(port(), "/api/snapshot?topics=quiet");
  ASSERT_EQ(first->status, 200) << first->body;
  EXPECT_TRUE(first->doc["topics"]["quiet"].is_null());
  publish(port(), "quiet", R"({"v":1})");
  std::string body;
  EXPECT_TRUE(eventually([&] {
    body = http_request(port(), "GET", "/api/snapshot?topics=quiet").body;
    return body.find(R"("data":{"v":1})") != std::string::npos;
  })) << body;
}

TEST_F(history_http, history_without_a_position_gives_every_retained_event_oldest_first) {
  follower f{port(), "t"};
  for (int i = 1; i <= 5; ++i)
    f.publish_and_see(port(), "t", std::to_string(i * 10));
  auto a = get(port(), "/api/history?topic=t");
  ASSERT_EQ(a->status, 200) << a->body;
  EXPECT_EQ(a->doc["topic"].get_string().value(), "t");
  EXPECT_EQ(a->doc["seq"].get_uint64().value(), 5u);
  EXPECT_EQ(a->doc["recovered"].get_bool().value(), false);
  EXPECT_EQ(seqs(a->doc["events"]), (std::vector<uint64_t>{1, 2, 3, 4, 5}));
  auto third = a->doc["events"].at(2);
  EXPECT_EQ(third["data"].get_int64().value(), 30);
  EXPECT_EQ(third["snapshot"].get_bool().value(), false);
  EXPECT_GT(third["ts"].get_int64().value(), 0);

  auto two = get(port(), "/api/history?topic=t&limit=2");
  EXPECT_EQ(seqs(two->doc["events"]), (std::vector<uint64_t>{1, 2}));
}

TEST_F(history_http, history_from_a_position_pages_through_the_events_after_it) {
  follower f{port(), "t"};
  for (int i = 1; i <= 5; ++i)
    f.publish_and_see(port(), "t", std::to_string(i));
  auto epoch = std::string{get(port(), "/api/history?topic=t")->doc["epoch"].get_string().value()};

  auto after2 = get(port(), "/api/history?topic=t&epoch=" + epoch + "&since=2");
  ASSERT_EQ(after2->status, 200) << after2->body;
  EXPECT_EQ(after2->doc["recovered"].get_bool().value(), true);
  EXPECT_EQ(after2->doc["epoch"].get_string().value(), epoch);
  EXPECT_EQ(after2->doc["seq"].get_uint64().value(), 5u);
  EXPECT_EQ(seqs(after2->doc["events"]), (std::vector<uint64_t>{3, 4, 5}));

  // Paging with limit: each page starts after the last seq of the one before.
  std::vector<uint64_t> all;
  uint64_t since = 0;
  for (int page = 0; page < 10; ++page) {
    auto a = get(port(), "/api/history?topic=t&epoch=" + epoch + "&since="
                           + std::to_string(since) + "&limit=2");
    ASSERT_EQ(a->doc["recovered"].get_bool().value(), true) << a->body;
    auto got = seqs(a->doc["events"]);
    EXPECT_LE(got.size(), 2u);
    if (got.empty())
      break;
    all.insert(all.end(), got.begin(), got.end());
    since = got.back();
  }
  EXPECT_EQ(all, (std::vector<uint64_t>{1, 2, 3, 4, 5}));
}

TEST_F(history_http, history_is_not_recovered_for_another_epoch) {
  follower f{port(), "t"};
  f.publish_and_see(port(), "t", "1");
  f.publish_and_see(port(), "t", "2");
  auto a = get(port(), "/api/history?topic=t&epoch=not-this-one&since=1");
  ASSERT_EQ(a->status, 200) << a->body;
  EXPECT_EQ(a->doc["recovered"].get_bool().value(), false);
  EXPECT_EQ(a->doc["seq"].get_uint64().value(), 2u);
  EXPECT_EQ(a->doc["events"].get_array().size(), 0u);
  EXPECT_NE(a->doc["epoch"].get_string().value(), "not-this-one");
}

TEST(history_http_small, history_is_not_recovered_for_a_seq_no_longer_retained) {
  node_process node{{"--history.size=3"}};
  follower f{node.port(), "t"};
  for (int i = 1; i <= 6; ++i)
    f.publish_and_see(node.port(), "t", std::to_string(i));
  auto all = get(node.port(), "/api/history?topic=t");
  EXPECT_EQ(seqs(all->doc["events"]), (std::vector<uint64_t>{4, 5, 6}));
  auto epoch = std::string{all->doc["epoch"].get_string().value()};

  // Event 2 is gone, so a client that saw only 1 cannot be made whole.
  auto gone = get(node.port(), "/api/history?topic=t&epoch=" + epoch + "&since=1");
  EXPECT_EQ(gone->doc["recovered"].get_bool().value(), false) << gone->body;
  EXPECT_EQ(gone->doc["events"].get_array().size(), 0u);
  // One that saw 3 is.
  auto kept = get(node.port(), "/api/history?topic=t&epoch=" + epoch + "&since=3");
  EXPECT_EQ(kept->doc["recovered"].get_bool().value(), true) << kept->body;
  EXPECT_EQ(seqs(kept->doc["events"]), (std::vector<uint64_t>{4, 5, 6}));
}

TEST_F(history_http, bad_parameters_get_400_naming_the_parameter) {
  std::string many = "/api/snapshot?topics=t0";
  for (int i = 1; i <= 100; ++i)
    many += ",t" + std::to_string(i);
  const std::vector<std::pair<std::string, std::string>> cases{
    {"/api/snapshot", "topics"},
    {"/api/snapshot?topics=", "topics"},
    {"/api/snapshot?topics=a,,b", "topics"},
    {"/api/snapshot?topics=a,bad%20name", "topics"},
    {many, "topics"},
    {"/api/history", "topic"},
    {"/api/history?topic=", "topic"},
    {"/api/history?topic=no%22quotes", "topic"},
    {"/api/history?topic=t&epoch=E", "since"},
    {"/api/history?topic=t&since=3", "epoch"},
    {"/api/history?topic=t&epoch=E&since=abc", "since"},
    {"/api/history?topic=t&epoch=E&since=-1", "since"},
    {"/api/history?topic=t&epoch=E&since=3x", "since"},
    {"/api/history?topic=t&limit=ten", "limit"},
    {"/api/history?topic=t&limit=0", "limit"},
    {"/api/history?topic=t&limit=1001", "limit"},
    {"/api/market/snapshot", "symbols"},
    {"/api/market/snapshot?symbols=AAPL,BAD%20SYMBOL", "symbols"},
  };
  for (auto& [target, param] : cases) {
    auto a = get(port(), target);
    EXPECT_EQ(a->status, 400) << target << " -> " << a->body;
    EXPECT_EQ(json_string(a->body, "parameter"), param) << target << " -> " << a->body;
    EXPECT_EQ(json_string(a->body, "error").rfind(param + ": ", 0), 0u)
      << target << " -> " << a->body;
  }
  EXPECT_EQ(node_metric(port(), R"(tickgate_http_history_rejected_total{endpoint="history"})"),
            11);
  EXPECT_EQ(node_metric(port(), R"(tickgate_http_history_requests_total{endpoint="snapshot"})"),
            5);

  // The largest allowed values pass; unknown parameters are ignored.
  EXPECT_EQ(get(port(), "/api/history?topic=t&limit=1000&colour=blue")->status, 200);
  EXPECT_EQ(get(port(), many.substr(0, many.rfind(',')) + "&x=1")->status, 200);
}

TEST_F(history_http, other_methods_get_405) {
  for (auto target : {"/api/snapshot?topics=a", "/api/history?topic=a",
                      "/api/market/snapshot?symbols=AAPL"}) {
    auto r = http_request(port(), "POST", target, "{}");
    EXPECT_EQ(r.status, 405) << target << " -> " << r.body;
    EXPECT_EQ(json_string(r.body, "error"), "use GET");
    EXPECT_EQ(http_request(port(), "DELETE", target).status, 405) << target;
  }
}

namespace {

const std::string secret = "history-test-secret";

std::string token_for(const std::string& user) {
  token_spec t;
  t.key = secret;
  t.sub = user;
  t.exp = now_s() + 300;
  return t.sign();
}

} // namespace

TEST(history_http_auth, private_topics_follow_the_websocket_rules) {
  node_process node{{"--auth.jwt-secret=" + secret}};
  auto port = node.port();
  // Anonymous: 401 naming the topic; public topics of the same request do not help.
  auto anon = get(port, "/api/snapshot?topics=public,orders:alice");
  EXPECT_EQ(anon->status, 401) << anon->body;
  EXPECT_EQ(json_string(anon->body, "topic"), "orders:alice");
  auto anon_h = get(port, "/api/history?topic=orders:alice");
  EXPECT_EQ(anon_h->status, 401) << anon_h->body;

  // Another user: 403.
  auto bob = get(port, "/api/history?topic=orders:alice", "Authorization",
                 "Bearer " + token_for("bob"));
  EXPECT_EQ(bob->status, 403) << bob->body;
  EXPECT_EQ(json_string(bob->body, "topic"), "orders:alice");

  // The owner, by header or by ?token=.
  auto own = get(port, "/api/history?topic=orders:alice", "Authorization",
                 "Bearer " + token_for("alice"));
  EXPECT_EQ(own->status, 200) << own->body;
  EXPECT_EQ(own->doc["topic"].get_string().value(), "orders:alice");
  auto own_q = get(port, "/api/snapshot?topics=orders:alice,public&token=" + token_for("alice"));
  EXPECT_EQ(own_q->status, 200) << own_q->body;
  // The owner's polls started the topic; it retains what is published now.
  publish(port, "orders:alice", R"({"order":7})");
  std::string body;
  EXPECT_TRUE(eventually([&] {
    body = http_request_with_header(port, "GET", "/api/history?topic=orders:alice",
                                    "Authorization", "Bearer " + token_for("alice"))
             .body;
    return body.find(R"("data":{"order":7})") != std::string::npos;
  })) << body;

  // A token the node refuses refuses the request, as it refuses a connection.
  token_spec forged;
  forged.key = "someone else's secret";
  forged.sub = "alice";
  auto bad = get(port, "/api/snapshot?topics=public", "Authorization", "Bearer " + forged.sign());
  EXPECT_EQ(bad->status, 401) << bad->body;
  EXPECT_NE(json_string(bad->body, "error").find("unauthorized"), std::string::npos);

  EXPECT_EQ(node_metric(port, "tickgate_auth_denied_total"), 3);
  EXPECT_EQ(node_metric(port, R"(tickgate_auth_failures_total{reason="bad_signature"})"), 1);
}

TEST_F(history_http, market_snapshot_has_the_typed_envelopes_shape) {
  // The typed envelope maps symbol AAPL to channel:trade:AAPL (dialects.typed-topic).
  follower f{port(), "channel:trade:AAPL"};
  f.publish_and_see(port(), "channel:trade:AAPL", R"({"symbol":"AAPL","price":189.1})");
  f.publish_and_see(port(), "channel:trade:AAPL", R"({"symbol":"AAPL","price":189.3})");
  auto before_ms = tickgate::now_us() / 1000;

  auto a = get(port(), "/api/market/snapshot?symbols=aapl,MSFT");
  ASSERT_EQ(a->status, 200) << a->body;
  EXPECT_EQ(a->doc["type"].get_string().value(), "market_data");
  EXPECT_EQ(simdjson::minify(a->doc["data"]["AAPL"]), R"({"symbol":"AAPL","price":189.3})");
  EXPECT_TRUE(a->doc["data"]["MSFT"].is_null());
  auto ts = a->doc["timestamp"].get_int64().value();
  EXPECT_GE(ts, before_ms);
  EXPECT_LE(ts, tickgate::now_us() / 1000);
  EXPECT_EQ(node_metric(port(), R"(tickgate_http_history_requests_total{endpoint="market_snapshot"})"),
            1);
}
