// The real tickgate binary with a real redis-server: topics follow Redis
// pub/sub, survive Redis restarts, and HTTP publishes go out through Redis.

#include <algorithm>
#include <string>

#include <gtest/gtest.h>
#include <hiredis/hiredis.h>
#include <simdjson.h>

#include "support/json_fields.hpp"
#include "support/node_process.hpp"
#include "support/redis_process.hpp"
#include "support/ws_client.hpp"
#include "tickgate.pb.h"

using namespace std::chrono_literals;
using namespace tickgate::test;

namespace {

bool is_type(const ws_message& m, const char* type) {
  return !m.binary && json_string(m.data, "type") == type;
}

void subscribe(ws_client& c, uint64_t id, const std::string& topic) {
  c.send_text(R"({"op":"subscribe","id":)" + std::to_string(id) + R"(,"topics":[")"
              + topic + R"("]})");
  auto ack = c.read_until([](const ws_message& m) { return is_type(m, "ack"); });
  ASSERT_TRUE(ack) << "no ack for " << topic;
  ASSERT_EQ(json_field(ack->data, "id"), std::to_string(id));
}

std::optional<ws_message> next_event(ws_client& c,
                                     std::chrono::milliseconds t = 5000ms) {
  return c.read_until([](const ws_message& m) { return is_type(m, "event"); }, t);
}

void publish(redis_process& r, const std::string& channel, const std::string& payload) {
  redis_command(r.port(), {"PUBLISH", channel, payload});
}

std::vector<std::string> channels(redis_process& r) {
  auto v = redis_command(r.port(), {"PUBSUB", "CHANNELS"});
  std::sort(v.begin(), v.end());
  return v;
}

std::string health(const node_process& n) {
  return http_request(n.port(), "GET", "/health").body;
}

// A plain Redis client SUBSCRIBEd to one channel: what publishers' peers see.
class redis_watcher {
public:
  redis_watcher(uint16_t port, const std::string& channel) {
    timeval timeout{5, 0};
    ctx_ = redisConnectWithTimeout("127.0.0.1", port, timeout);
    if (!ctx_ || ctx_->err)
      throw std::runtime_error("redis_watcher: cannot connect");
    redisSetTimeout(ctx_, timeout);
    auto* confirm = static_cast<redisReply*>(redisCommand(ctx_, "SUBSCRIBE %b", channel.data(),
                                                          channel.size()));
    if (confirm)
      freeReplyObject(confirm);
  }
  ~redis_watcher() { redisFree(ctx_); }
  redis_watcher(const redis_watcher&) = delete;
  redis_watcher& operator=(const redis_watcher&) = delete;

  // The payload of the next message ("" after 5 s without one).
  std::string next() {
    void* reply = nullptr;
    if (redisGetReply(ctx_, &reply) != REDIS_OK || !reply)
      return {};
    auto* r = static_cast<redisReply*>(reply);
    std::string out;
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 3)
      out.assign(r->element[2]->str, r->element[2]->len);
    freeReplyObject(r);
    return out;
  }

private:
  redisContext* ctx_ = nullptr;
};

} // namespace

TEST(redis_bridge, redis_publish_reaches_subscribed_clients_untouched) {
  redis_process redis;
  node_process node({"--redis.url=" + redis.url()});
  ws_client c{node.port()};
  subscribe(c, 1, "trade@AAPL");
  publish(redis, "trade@AAPL", R"({"p":"189.20","q":"5"})");
  auto ev = next_event(c);
  ASSERT_TRUE(ev);
  EXPECT_EQ(json_field(ev->data, "topic"), "\"trade@AAPL\"");
  EXPECT_EQ(json_field(ev->data, "seq"), "1");
  EXPECT_NE(ev->data.find(R"("data":{"p":"189.20","q":"5"}})"), std::string::npos) << ev->data;
  EXPECT_NE(health(node).find(R"("status":"ok")"), std::string::npos);
  EXPECT_NE(health(node).find(R"("redis":"up")"), std::string::npos);
}

TEST(redis_bridge, channels_appear_with_the_first_subscriber_and_vanish_after_the_last) {
  redis_process redis;
  node_process node({"--redis.url=" + redis.url(), "--topic.idle-grace=200ms"});
  EXPECT_TRUE(channels(redis).empty());
  ws_client a{node.port()};
  ws_client b{node.port()};
  subscribe(a, 1, "trade@AAPL");
  // The ack waits for Redis to confirm the SUBSCRIBE (of the channel and
  // its snapshot and event twins, in one command).
  EXPECT_EQ(channels(redis), (std::vector<std::string>{"trade@AAPL", "trade@AAPL#event",
                                                       "trade@AAPL#snapshot"}));
  subscribe(b, 1, "trade@AAPL");
  subscribe(b, 2, "depth@AAPL");
  EXPECT_EQ(channels(redis), (std::vector<std::string>{"depth@AAPL", "depth@AAPL#event",
                                                       "depth@AAPL#snapshot", "trade@AAPL",
                                                       "trade@AAPL#event", "trade@AAPL#snapshot"}));
  EXPECT_EQ(redis_command(redis.port(), {"PUBSUB", "NUMSUB", "trade@AAPL"}),
            (std::vector<std::string>{"trade@AAPL", "1"}));
  a.send_text(R"({"op":"unsubscribe","id":3,"topics":["trade@AAPL"]})");
  ASSERT_TRUE(a.read_until([](const ws_message& m) { return is_type(m, "ack"); }));
  b.close(); // the last subscriber of both topics goes away
  EXPECT_TRUE(eventually([&] { return channels(redis).empty(); }, 3000ms))
    << "still subscribed: " << channels(redis).size();
}

TEST(redis_bridge, one_redis_subscription_serves_100_clients) {
  redis_process redis;
  node_process node({"--redis.url=" + redis.url()});
  std::vector<std::unique_ptr<ws_client>> clients;
  for (int i = 0; i < 100; ++i) {
    clients.push_back(std::make_unique<ws_client>(node.port()));
    subscribe(*clients.back(), 1, "ticker@BTC-USD");
  }
  EXPECT_EQ(redis_command(redis.port(), {"PUBSUB", "NUMSUB", "ticker@BTC-USD"}),
            (std::vector<std::string>{"ticker@BTC-USD", "1"}));
  EXPECT_EQ(redis_command(redis.port(), {"PUBSUB", "NUMSUB", "ticker@BTC-USD"}).size(), 2u);
  publish(redis, "ticker@BTC-USD", R"({"c":"1"})");
  for (auto& c : clients) {
    auto ev = next_event(*c);
    ASSERT_TRUE(ev);
    EXPECT_EQ(json_field(ev->data, "seq"), "1");
  }
}

TEST(redis_bridge, deliveries_resume_on_the_same_connections_in_a_new_epoch_after_a_redis_restart) {
  redis_process redis;
  node_process node({"--redis.url=" + redis.url(), "--redis.reconnect-min=50ms",
                     "--redis.reconnect-max=500ms"});
  ws_client c{node.port()};
  subscribe(c, 1, "trade@AAPL");
  publish(redis, "trade@AAPL", "1");
  auto first = next_event(c);
  ASSERT_TRUE(first);
  redis.kill();
  auto down = c.read_until([](const ws_message& m) { return is_type(m, "status"); });
  ASSERT_TRUE(down);
  EXPECT_EQ(json_field(down->data, "state"), "\"feed_down\"");
  EXPECT_EQ(json_field(down->data, "topic"), "\"trade@AAPL\"");
  EXPECT_TRUE(eventually([&] { return health(node).find("degraded") != std::string::npos; }));
  redis.start();
  auto back = std::chrono::steady_clock::now();
  auto up = c.read_until([](const ws_message& m) { return is_type(m, "status"); }, 3000ms);
  ASSERT_TRUE(up);
  EXPECT_EQ(json_field(up->data, "state"), "\"feed_up\"");
  // Whatever Redis carried during the outage never reached the node: a new
  // epoch begins, so no client resumes across the gap believing it whole.
  auto reset = c.read_until([](const ws_message& m) { return is_type(m, "reset"); }, 2000ms);
  ASSERT_TRUE(reset);
  EXPECT_NE(json_field(reset->data, "epoch"), json_field(first->data, "epoch"));
  publish(redis, "trade@AAPL", "2");
  auto ev = next_event(c, 2000ms);
  ASSERT_TRUE(ev) << "no delivery after Redis came back";
  EXPECT_EQ(json_field(ev->data, "data"), "2");
  EXPECT_EQ(json_field(ev->data, "seq"), "1");
  EXPECT_EQ(json_field(ev->data, "epoch"), json_field(reset->data, "epoch"));
  EXPECT_LT(std::chrono::steady_clock::now() - back, 2s);
  EXPECT_EQ(channels(redis), (std::vector<std::string>{"trade@AAPL", "trade@AAPL#event", "trade@AAPL#snapshot"}));
  EXPECT_EQ(node_stat(node.port(), "bridge", "reconnects"), 1);
}

TEST(redis_bridge, node_starts_without_redis_and_becomes_healthy_when_it_appears) {
  auto port = free_port();
  node_process node({"--redis.url=redis://127.0.0.1:" + std::to_string(port),
                     "--redis.reconnect-min=50ms", "--redis.reconnect-max=300ms"});
  auto h = health(node);
  EXPECT_NE(h.find(R"("status":"degraded")"), std::string::npos) << h;
  EXPECT_NE(h.find(R"("redis":"down")"), std::string::npos) << h;
  ws_client c{node.port()};
  c.send_text(R"({"op":"subscribe","id":1,"topics":["trade@AAPL"]})");
  auto status = c.read_until([](const ws_message& m) { return is_type(m, "status"); });
  ASSERT_TRUE(status);
  EXPECT_EQ(json_field(status->data, "state"), "\"feed_down\"");
  ASSERT_TRUE(c.read_until([](const ws_message& m) { return is_type(m, "ack"); }));
  auto rejected = http_request(node.port(), "POST", "/api/publish",
                               R"({"topic":"trade@AAPL","data":1})");
  EXPECT_EQ(rejected.status, 503);

  // Redis appears on the configured port: the node connects on its own.
  redis_process redis{port, {}};
  EXPECT_TRUE(eventually([&] {
    return health(node).find(R"("status":"ok")") != std::string::npos;
  }, 3000ms));
  auto up = c.read_until([](const ws_message& m) { return is_type(m, "status"); });
  ASSERT_TRUE(up);
  EXPECT_EQ(json_field(up->data, "state"), "\"feed_up\"");
  // The subscription made during the outage is live in Redis now.
  EXPECT_EQ(channels(redis), (std::vector<std::string>{"trade@AAPL", "trade@AAPL#event", "trade@AAPL#snapshot"}));
  publish(redis, "trade@AAPL", R"({"p":"1"})");
  auto ev = next_event(c);
  ASSERT_TRUE(ev);
  EXPECT_EQ(json_field(ev->data, "data"), R"({"p":"1"})");
}

TEST(redis_bridge, binary_and_maximum_size_payloads_pass_untouched) {
  redis_process redis;
  node_process node({"--redis.url=" + redis.url(), "--redis.max-payload-bytes=100000"});
  ws_client json{node.port()};
  ws_client bin{node.port(), "/v1", "tickgate.v1.proto"};
  subscribe(json, 1, "raw");
  tickgate::v1::ClientFrame sub;
  sub.set_id(1);
  sub.mutable_subscribe()->add_topics("raw");
  bin.send_binary(sub.SerializeAsString());
  ASSERT_TRUE(bin.read()); // ack
  std::string binary;
  for (int i = 0; i < 256; ++i)
    binary.push_back(static_cast<char>(i));
  std::string biggest(100000, 'x');
  std::string too_big(100001, 'y');
  publish(redis, "raw", binary);
  publish(redis, "raw", biggest);
  publish(redis, "raw", too_big);
  publish(redis, "raw", "after");

  tickgate::v1::ServerFrame f;
  auto b1 = bin.read();
  ASSERT_TRUE(b1 && f.ParseFromString(b1->data));
  EXPECT_EQ(f.event().data(), binary);
  auto b2 = bin.read();
  ASSERT_TRUE(b2 && f.ParseFromString(b2->data));
  EXPECT_EQ(f.event().data(), biggest);
  auto b3 = bin.read();
  ASSERT_TRUE(b3 && f.ParseFromString(b3->data));
  EXPECT_EQ(f.event().data(), "after");
  EXPECT_EQ(f.event().seq(), 3u); // the oversize message was dropped, not numbered

  auto j1 = next_event(json);
  ASSERT_TRUE(j1);
  std::string b64 = json_string(j1->data, "data_b64");
  EXPECT_EQ(b64.size(), 344u); // 256 bytes -> 344 base64 characters
  EXPECT_EQ(b64.substr(0, 8), "AAECAwQF");
  auto j2 = next_event(json);
  ASSERT_TRUE(j2);
  EXPECT_EQ(json_string(j2->data, "data"), biggest);
  EXPECT_EQ(node_stat(node.port(), "bridge", "oversize_dropped"), 1);
}

TEST(redis_bridge, pattern_mode_routes_symbols_never_subscribed_in_redis) {
  redis_process redis;
  node_process node({"--redis.url=" + redis.url(),
                     R"(--redis.patterns=["channel:trade:*"])",
                     R"(--redis.mappings=["trade@{symbol} -> channel:trade:{symbol}"])"});
  EXPECT_TRUE(eventually([&] {
    return redis_command(redis.port(), {"PUBSUB", "NUMPAT"}) == std::vector<std::string>{"1"};
  }));
  ws_client c{node.port()};
  subscribe(c, 1, "trade@NEWSYM");
  EXPECT_TRUE(channels(redis).empty()); // the pattern delivers it; no SUBSCRIBE
  publish(redis, "channel:trade:NEWSYM", R"({"p":"7"})");
  publish(redis, "channel:trade:OTHER", R"({"p":"8"})");
  auto ev = next_event(c);
  ASSERT_TRUE(ev);
  EXPECT_EQ(json_field(ev->data, "topic"), "\"trade@NEWSYM\"");
  EXPECT_EQ(json_field(ev->data, "data"), R"({"p":"7"})");
  EXPECT_FALSE(c.read(200ms));
  // Channels outside the pattern still get their own SUBSCRIBE.
  subscribe(c, 2, "ticker@NEWSYM");
  EXPECT_EQ(channels(redis), (std::vector<std::string>{"ticker@NEWSYM", "ticker@NEWSYM#event",
                                                       "ticker@NEWSYM#snapshot"}));
}

TEST(redis_bridge, http_publish_goes_through_redis_to_every_node_in_order) {
  redis_process redis;
  node_process a({"--redis.url=" + redis.url()});
  node_process b({"--redis.url=" + redis.url()});
  ws_client on_a{a.port()};
  ws_client on_b{b.port()};
  subscribe(on_a, 1, "trade@X");
  subscribe(on_b, 1, "trade@X");
  std::string batch = "[";
  for (int i = 1; i <= 100; ++i)
    batch += std::string(i > 1 ? "," : "") + R"({"topic":"trade@X","data":)" + std::to_string(i) + "}";
  batch += "]";
  auto res = http_request(a.port(), "POST", "/api/publish", batch);
  ASSERT_EQ(res.status, 200);
  for (auto* c : {&on_a, &on_b}) {
    for (int i = 1; i <= 100; ++i) {
      auto ev = next_event(*c);
      ASSERT_TRUE(ev) << "event " << i;
      EXPECT_EQ(json_field(ev->data, "data"), std::to_string(i));
      EXPECT_EQ(json_field(ev->data, "seq"), std::to_string(i));
    }
  }
  EXPECT_EQ(node_stat(a.port(), "bridge", "published"), 100);
}

TEST(redis_bridge, password_user_and_database_come_from_the_url) {
  redis_process redis({"--requirepass", "s3cret", "--user", "tg", "on", ">tgpass",
                       "~*", "&*", "+@all"});
  node_process by_password({"--redis.url=redis://:s3cret@127.0.0.1:"
                            + std::to_string(redis.port()) + "/2"});
  node_process by_user({"--redis.url=redis://tg:tgpass@127.0.0.1:"
                        + std::to_string(redis.port()) + "/3"});
  node_process wrong({"--redis.url=redis://:nope@127.0.0.1:"
                      + std::to_string(redis.port()), "--redis.reconnect-max=200ms"});
  ws_client c{by_password.port()};
  subscribe(c, 1, "t");
  ws_client d{by_user.port()};
  subscribe(d, 1, "t");
  redis_command(redis.port(), {"PUBLISH", "t", "1"}, "s3cret");
  EXPECT_TRUE(next_event(c));
  EXPECT_TRUE(next_event(d));
  EXPECT_NE(health(wrong).find("degraded"), std::string::npos);
  EXPECT_NE(wrong.log().find("bridge.auth_failed"), std::string::npos);
}

TEST(redis_bridge, tickgate_pub_feeds_subscribers_through_redis_at_its_rate) {
  redis_process redis;
  node_process node({"--redis.url=" + redis.url()});
  ws_client c{node.port()};
  subscribe(c, 1, "trade@AAPL");
  auto cmd = tickgate_binary() + "-pub --redis " + redis.url()
             + " --symbols 2 --types trade --rate 200 --duration 1 --quiet";
  auto pub = run_command(cmd);
  ASSERT_EQ(pub.code, 0) << pub.out;
  // 200 trades over 2 symbols: AAPL gets every other one.
  int got = 0;
  while (auto ev = next_event(c, 1000ms)) {
    ++got;
    EXPECT_EQ(json_field(ev->data, "seq"), std::to_string(got));
    EXPECT_NE(json_field(ev->data, "data").find(R"("s":"AAPL")"), std::string::npos);
    EXPECT_NE(json_field(ev->data, "data").find(R"("P":)"), std::string::npos);
  }
  EXPECT_EQ(got, 100);
}

TEST(redis_bridge, snapshots_travel_on_the_snapshot_twin_of_a_topics_channel) {
  redis_process redis;
  node_process node({"--redis.url=" + redis.url()});
  ws_client c{node.port()};
  subscribe(c, 1, "depth@X");
  // A publisher's snapshot on the twin and a delta on the channel reach the
  // topic's subscribers as one stream, in publish order.
  publish(redis, "depth@X#snapshot", R"({"b":[["1","2"]]})");
  publish(redis, "depth@X", R"({"d":1})");
  auto snap = next_event(c);
  ASSERT_TRUE(snap);
  EXPECT_EQ(json_field(snap->data, "topic"), "\"depth@X\"");
  EXPECT_EQ(json_field(snap->data, "data"), R"({"b":[["1","2"]]})");
  EXPECT_EQ(json_field(snap->data, "seq"), "1");
  auto delta = next_event(c);
  ASSERT_TRUE(delta);
  EXPECT_EQ(json_field(delta->data, "data"), R"({"d":1})");
  EXPECT_EQ(json_field(delta->data, "seq"), "2");
  // An HTTP publish marked as a snapshot goes out on the twin, so every node
  // behind this Redis sees the mark; it comes back to the subscriber too.
  redis_watcher twin{redis.port(), "depth@X#snapshot"};
  auto res = http_request(node.port(), "POST", "/api/publish",
                          R"({"topic":"depth@X","data":{"b":[]},"snapshot":true})");
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(twin.next(), R"({"b":[]})");
  auto back = next_event(c);
  ASSERT_TRUE(back);
  EXPECT_EQ(json_field(back->data, "data"), R"({"b":[]})");
  EXPECT_EQ(json_field(back->data, "seq"), "3");
  // A snapshot mark that is not a boolean is refused, naming the field.
  auto bad = http_request(node.port(), "POST", "/api/publish",
                          R"({"topic":"depth@X","data":1,"snapshot":"yes"})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("'snapshot' must be true or false"), std::string::npos) << bad.body;
}

TEST(redis_bridge, the_snapshot_suffix_is_configurable_and_can_be_turned_off) {
  redis_process redis;
  node_process custom({"--redis.url=" + redis.url(), R"(--redis.snapshot-suffix="!full")"});
  ws_client c{custom.port()};
  subscribe(c, 1, "depth@Y");
  EXPECT_EQ(channels(redis), (std::vector<std::string>{"depth@Y", "depth@Y!full", "depth@Y#event"}));
  node_process off({"--redis.url=" + redis.url(), R"(--redis.snapshot-suffix="")"});
  ws_client d{off.port()};
  subscribe(d, 1, "depth@Z");
  EXPECT_EQ(channels(redis), (std::vector<std::string>{"depth@Y", "depth@Y!full", "depth@Y#event",
                                                       "depth@Z", "depth@Z#event"}));
  // A suffix a topic's own channel could end with is refused at start.
  auto r = run_command("timeout 20 " + tickgate_binary() + " --redis.url=" + redis.url()
                       + " --redis.snapshot-suffix=_snap --ws.host=127.0.0.1 --ws.port=0"
                       + " --admin.port=0");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("redis.snapshot-suffix"), std::string::npos) << r.out;
}

TEST(redis_bridge, event_names_travel_on_the_event_twin_and_plain_publishes_stay_plain) {
  redis_process redis;
  node_process a({"--redis.url=" + redis.url()});
  node_process b({"--redis.url=" + redis.url()});
  ws_client on_a{a.port()};
  ws_client on_b{b.port()};
  subscribe(on_a, 1, "prices:BTC"); // node a's link is up
  subscribe(on_b, 1, "prices:BTC");
  EXPECT_EQ(channels(redis), (std::vector<std::string>{"prices:BTC", "prices:BTC#event",
                                                       "prices:BTC#snapshot"}));
  // Named publications go out on the event twin in an envelope; unnamed ones
  // stay plain payloads on the channel. Node b sees every name and mark.
  redis_watcher twin{redis.port(), "prices:BTC#event"};
  auto res = http_request(a.port(), "POST", "/api/publish",
                          R"([{"topic":"prices:BTC","event":"price.trade","data":{"id":1}},)"
                          R"({"topic":"prices:BTC","data":{"id":2}},)"
                          R"({"topic":"prices:BTC","event":"price.update","snapshot":true,"data":{"id":1}}])");
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(twin.next(), "{\"event\":\"price.trade\"}\n{\"id\":1}");
  EXPECT_EQ(twin.next(), "{\"event\":\"price.update\",\"snapshot\":true}\n{\"id\":1}");
  auto expect_event = [&](const char* event, const char* data, const char* seq,
                          const char* snapshot) {
    auto ev = next_event(on_b);
    ASSERT_TRUE(ev) << "no event seq " << seq;
    EXPECT_EQ(json_field(ev->data, "event"), event) << ev->data;
    EXPECT_EQ(json_field(ev->data, "data"), data) << ev->data;
    EXPECT_EQ(json_field(ev->data, "seq"), seq) << ev->data;
    EXPECT_EQ(json_field(ev->data, "snapshot"), snapshot) << ev->data;
  };
  expect_event(R"("price.trade")", R"({"id":1})", "1", "<missing>");
  expect_event("<missing>", R"({"id":2})", "2", "<missing>");
  expect_event(R"("price.update")", R"({"id":1})", "3", "true");
  // Other publishers: a plain PUBLISH works as before, an envelope on the
  // twin names the event, and a message there without one is dropped and
  // counted, never delivered nameless.
  publish(redis, "prices:BTC", R"({"id":3})");
  publish(redis, "prices:BTC#event", "{\"event\":\"price.trade\"}\n{\"id\":3}");
  publish(redis, "prices:BTC#event", R"({"id":4})");
  publish(redis, "prices:BTC", R"({"id":5})");
  expect_event("<missing>", R"({"id":3})", "4", "<missing>");
  expect_event(R"("price.trade")", R"({"id":3})", "5", "<missing>");
  expect_event("<missing>", R"({"id":5})", "6", "<missing>");
  EXPECT_EQ(node_stat(b.port(), "bridge", "bad_envelope"), 1);
  // redis.event-suffix="" subscribes no twin (and names stay on this node).
  node_process off({"--redis.url=" + redis.url(), R"(--redis.event-suffix="")"});
  ws_client on_off{off.port()};
  subscribe(on_off, 1, "prices:ETH");
  auto all = channels(redis);
  EXPECT_EQ(std::count(all.begin(), all.end(), "prices:ETH#event"), 0);
  EXPECT_EQ(std::count(all.begin(), all.end(), "prices:ETH"), 1);
}
