// Topic, router and connection actors together, with in-memory sessions.

#include <gtest/gtest.h>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include <simdjson.h>

#include "actors/connection_actor.hpp"
#include "actors/inspector_actor.hpp"
#include "actors/topic_actor.hpp"
#include "actors/metrics.hpp"
#include "actors/router_actor.hpp"
#include "support/fake_sink.hpp"
#include "support/routing_core.hpp"
#include "support/node_process.hpp"
#include "tickgate.pb.h"

using namespace tickgate;
using namespace std::chrono_literals;
using tickgate::test::eventually;
using tickgate::test::fake_sink;

namespace {

struct routing : tickgate::test::routing_core {
  void SetUp() override {
    settings.max_subscriptions = 3;
    settings.topic_idle_grace = 100ms;
    settings.node_id = "t";
    start();
  }

  static client_command cmd(client_op op, uint64_t id,
                            std::vector<std::string> topics,
                            wire_format f = wire_format::json) {
    client_command c;
    c.op = op;
    c.id = id;
    c.topics = std::move(topics);
    c.format = f;
    return c;
  }

  // Sends a request and waits for its (single) reply frame.
  std::string request(client& c, client_command command) {
    auto before = c.sink->count();
    caf::anon_send(c.conn, std::move(command));
    EXPECT_TRUE(c.sink->wait_for_frames(before + 1));
    auto frames = c.sink->frames();
    return frames.size() > before ? frames[before] : "";
  }

  void publish(const std::string& topic, const std::string& payload) {
    auto p = std::make_shared<publication>();
    p->topic = topic;
    p->payload = payload;
    p->ts_us = now_us();
    caf::anon_send(router, route_atom_v, publication_ptr{p});
  }
};

} // namespace

TEST_F(routing, subscriber_receives_events_in_order_with_consecutive_seq) {
  auto c = connect();
  EXPECT_EQ(request(c, cmd(client_op::subscribe, 1, {"trade@AAPL"})),
            R"({"type":"ack","id":1,"op":"subscribe","topics":["trade@AAPL"]})");
  for (int i = 1; i <= 50; ++i)
    publish("trade@AAPL", std::to_string(i));
  ASSERT_TRUE(c.sink->wait_for_frames(51));
  auto frames = c.sink->frames();
  for (int i = 1; i <= 50; ++i) {
    auto& f = frames[i];
    EXPECT_NE(f.find("\"seq\":" + std::to_string(i) + ","), std::string::npos) << f;
    EXPECT_NE(f.find("\"data\":" + std::to_string(i) + "}"), std::string::npos) << f;
    EXPECT_NE(f.find("\"epoch\":\"t-"), std::string::npos) << f;
  }
}

TEST_F(routing, unsubscribe_stops_delivery_after_its_ack) {
  auto c = connect();
  request(c, cmd(client_op::subscribe, 1, {"a", "b"}));
  EXPECT_EQ(request(c, cmd(client_op::unsubscribe, 2, {"a"})),
            R"({"type":"ack","id":2,"op":"unsubscribe","topics":["a"]})");
  publish("a", "1");
  publish("b", "2");
  ASSERT_TRUE(c.sink->wait_for_frames(3));
  EXPECT_FALSE(c.sink->wait_for_frames(4, 200ms));
  EXPECT_NE(c.sink->frames()[2].find(R"("topic":"b")"), std::string::npos);
}

TEST_F(routing, clients_only_see_their_own_topics) {
  auto x = connect();
  auto y = connect();
  request(x, cmd(client_op::subscribe, 1, {"x"}));
  request(y, cmd(client_op::subscribe, 1, {"y"}));
  publish("x", "1");
  publish("y", "2");
  ASSERT_TRUE(x.sink->wait_for_frames(2));
  ASSERT_TRUE(y.sink->wait_for_frames(2));
  EXPECT_FALSE(x.sink->wait_for_frames(3, 150ms));
  EXPECT_NE(x.sink->frames()[1].find(R"("topic":"x")"), std::string::npos);
  EXPECT_NE(y.sink->frames()[1].find(R"("topic":"y")"), std::string::npos);
}

TEST_F(routing, subscription_limit_rejects_the_whole_request) {
  auto c = connect();
  request(c, cmd(client_op::subscribe, 1, {"a", "b"}));
  auto err = request(c, cmd(client_op::subscribe, 2, {"c", "d"}));
  EXPECT_NE(err.find(R"("type":"error","id":2,"code":"limit_exceeded")"),
            std::string::npos) << err;
  // Re-subscribing to what it has costs nothing; one more still fits.
  EXPECT_NE(request(c, cmd(client_op::subscribe, 3, {"a", "c"})).find(R"("type":"ack")"),
            std::string::npos);
  publish("d", "1");
  publish("c", "2");
  ASSERT_TRUE(c.sink->wait_for_frames(4));
  EXPECT_NE(c.sink->frames()[3].find(R"("topic":"c")"), std::string::npos);
}

TEST_F(routing, json_and_proto_subscribers_get_the_same_event) {
  auto j = connect();
  auto p = connect();
  request(j, cmd(client_op::subscribe, 1, {"trade@X"}));
  request(p, cmd(client_op::subscribe, 1, {"trade@X"}, wire_format::proto));
  publish("trade@X", R"({"p":"1.5"})");
  ASSERT_TRUE(j.sink->wait_for_frames(2));
  ASSERT_TRUE(p.sink->wait_for_frames(2));
  auto json = j.sink->frames()[1];
  v1::ServerFrame f;
  ASSERT_TRUE(f.ParseFromString(p.sink->frames()[1]));
  EXPECT_TRUE(p.sink->binary_flags()[1]);
  EXPECT_FALSE(j.sink->binary_flags()[1]);
  EXPECT_EQ(f.event().data(), R"({"p":"1.5"})");
  EXPECT_NE(json.find("\"seq\":" + std::to_string(f.event().seq()) + ","), std::string::npos);
  EXPECT_NE(json.find("\"epoch\":\"" + f.event().epoch() + "\""), std::string::npos);
  EXPECT_NE(json.find("\"ts\":" + std::to_string(f.event().ts()) + ","), std::string::npos);
}

TEST_F(routing, topics_stop_after_the_grace_period_and_come_back_with_a_new_epoch) {
  auto& m = node_metrics();
  auto base = m.topic_live.load();
  auto c = connect();
  request(c, cmd(client_op::subscribe, 1, {"g"}));
  publish("g", "1");
  ASSERT_TRUE(c.sink->wait_for_frames(2));
  auto first = c.sink->frames()[1];
  EXPECT_EQ(m.topic_live.load(), base + 1);
  request(c, cmd(client_op::unsubscribe, 2, {"g"}));
  EXPECT_TRUE(eventually([&] { return m.topic_live.load() == base; }, 3000ms));
  request(c, cmd(client_op::subscribe, 3, {"g"}));
  publish("g", "2");
  ASSERT_TRUE(c.sink->wait_for_frames(5));
  auto second = c.sink->frames()[4];
  EXPECT_NE(second.find("\"seq\":1,"), std::string::npos) << second;
  auto epoch = [](const std::string& f) {
    auto i = f.find("\"epoch\":\"");
    return f.substr(i, f.find('"', i + 9) - i);
  };
  EXPECT_NE(epoch(first), epoch(second));
}

TEST_F(routing, a_closed_connection_leaves_its_topics) {
  auto& m = node_metrics();
  auto base = m.topic_subscriptions.load();
  auto c = connect();
  request(c, cmd(client_op::subscribe, 1, {"p", "q"}));
  EXPECT_EQ(m.topic_subscriptions.load(), base + 2);
  caf::anon_send(c.conn, closed_atom_v);
  EXPECT_TRUE(eventually([&] { return m.topic_subscriptions.load() == base; }));
}

TEST_F(routing, ping_gets_pong_with_id_and_server_time) {
  auto c = connect();
  auto before = now_us();
  auto pong = request(c, cmd(client_op::ping, 3, {}));
  EXPECT_EQ(pong.rfind(R"({"type":"pong","id":3,"ts":)", 0), 0u) << pong;
  auto ts = std::stoll(pong.substr(pong.find("\"ts\":") + 5));
  EXPECT_GE(ts, before);
}

TEST_F(routing, decode_errors_come_back_as_error_frames_and_are_counted) {
  auto& m = node_metrics();
  auto base = m.conn_errors[static_cast<size_t>(error_code::unknown_op)].load();
  auto c = connect();
  client_error err{error_code::unknown_op, "unknown op 'x'", 4, wire_format::json, {}};
  auto before = c.sink->count();
  caf::anon_send(c.conn, err);
  ASSERT_TRUE(c.sink->wait_for_frames(before + 1));
  EXPECT_EQ(c.sink->frames()[before],
            R"({"type":"error","id":4,"code":"unknown_op","message":"unknown op 'x'"})");
  EXPECT_EQ(m.conn_errors[static_cast<size_t>(error_code::unknown_op)].load(), base + 1);
}

TEST_F(routing, subscribe_then_immediate_unsubscribe_leaves_no_subscription) {
  auto& m = node_metrics();
  auto base = m.topic_subscriptions.load();
  auto c = connect();
  caf::anon_send(c.conn, cmd(client_op::subscribe, 1, {"r"}));
  caf::anon_send(c.conn, cmd(client_op::unsubscribe, 2, {"r"}));
  ASSERT_TRUE(c.sink->wait_for_frames(2));
  auto frames = c.sink->frames();
  EXPECT_NE(frames[0].find(R"("id":1,"op":"subscribe")"), std::string::npos);
  EXPECT_NE(frames[1].find(R"("id":2,"op":"unsubscribe")"), std::string::npos);
  EXPECT_TRUE(eventually([&] { return m.topic_subscriptions.load() == base; }));
  publish("r", "1");
  EXPECT_FALSE(c.sink->wait_for_frames(3, 150ms));
}

TEST_F(routing, acks_for_requests_in_flight_leave_in_request_order) {
  auto c = connect();
  caf::anon_send(c.conn, cmd(client_op::subscribe, 1, {"o1"}));
  caf::anon_send(c.conn, cmd(client_op::subscribe, 2, {"o2", "o3"}));
  caf::anon_send(c.conn, cmd(client_op::unsubscribe, 3, {"o1"}));
  caf::anon_send(c.conn, cmd(client_op::subscribe, 4, {"o4"}));
  caf::anon_send(c.conn, cmd(client_op::unsubscribe, 5, {"o2", "o3"}));
  ASSERT_TRUE(c.sink->wait_for_frames(5));
  auto frames = c.sink->frames();
  const char* expected[] = {R"("id":1,"op":"subscribe")", R"("id":2,"op":"subscribe")",
                            R"("id":3,"op":"unsubscribe")", R"("id":4,"op":"subscribe")",
                            R"("id":5,"op":"unsubscribe")"};
  for (size_t i = 0; i < 5; ++i)
    EXPECT_NE(frames[i].find(expected[i]), std::string::npos) << i << ": " << frames[i];
  publish("o4", "1"); // only o4 is left
  ASSERT_TRUE(c.sink->wait_for_frames(6));
  EXPECT_NE(c.sink->frames()[5].find(R"("topic":"o4")"), std::string::npos);
}

TEST_F(routing, a_failing_connection_actor_closes_only_its_own_client_with_1011) {
  auto& m = node_metrics();
  auto failures = m.conn_failures.load();
  auto healthy = connect();
  auto broken = connect();
  request(healthy, cmd(client_op::subscribe, 1, {"h"}));
  caf::anon_send_exit(broken.conn, caf::exit_reason::kill);
  EXPECT_TRUE(eventually([&] { return broken.sink->close_code() == uint16_t{1011}; }));
  EXPECT_EQ(m.conn_failures.load(), failures + 1);
  EXPECT_FALSE(healthy.sink->close_code());
  publish("h", "1");
  EXPECT_TRUE(healthy.sink->wait_for_frames(2));
}

TEST_F(routing, a_restarted_topic_announces_its_new_epoch_before_its_events) {
  auto c = connect();
  request(c, cmd(client_op::subscribe, 1, {"r"}));
  publish("r", "1");
  ASSERT_TRUE(c.sink->wait_for_frames(2));
  caf::scoped_actor self{*sys};
  bool found = false;
  self->request(router, std::chrono::seconds(3), restart_atom_v, std::string{"r"})
    .receive([&](bool b) { found = b; }, [](caf::error&) {});
  ASSERT_TRUE(found);
  ASSERT_TRUE(c.sink->wait_for_frames(3)); // the reset, once re-attached
  publish("r", "2");
  ASSERT_TRUE(c.sink->wait_for_frames(4));
  auto frames = c.sink->frames();
  EXPECT_EQ(frames[2].rfind(R"({"type":"reset","topic":"r","epoch":"t-)", 0), 0u) << frames[2];
  EXPECT_NE(frames[3].find(R"("seq":1,)"), std::string::npos) << frames[3];
  auto epoch_of = [](const std::string& f) {
    auto i = f.find("\"epoch\":\"");
    return f.substr(i + 9, f.find('"', i + 9) - i - 9);
  };
  EXPECT_NE(epoch_of(frames[1]), epoch_of(frames[2]));
  EXPECT_EQ(epoch_of(frames[2]), epoch_of(frames[3]));
}

TEST_F(routing, unsubscribing_during_a_restart_backoff_leaves_no_ghost_subscription) {
  auto strict = settings;
  strict.restart_burst = 0; // the first failure already holds restarts back
  strict.restart_backoff = 300ms;
  auto r = sys->spawn(router_actor, strict, std::vector<caf::actor>{});
  // Stops this router however the test ends, or TearDown waits for it forever.
  std::shared_ptr<void> stop_router{nullptr, [r](void*) { caf::anon_send(r, stop_atom_v); }};
  auto spawn_client = [&] {
    client c;
    c.conn = sys->spawn(connection_actor, c.sink, r, std::make_shared<const routing_settings>(strict), client_info{});
    return c;
  };
  auto pub = [&](const std::string& payload) {
    auto p = std::make_shared<publication>();
    p->topic = "g";
    p->payload = payload;
    p->ts_us = now_us();
    caf::anon_send(r, route_atom_v, publication_ptr{p});
  };
  auto a = spawn_client();
  request(a, cmd(client_op::subscribe, 1, {"g"}));
  caf::scoped_actor self{*sys};
  self->request(r, std::chrono::seconds(3), restart_atom_v, std::string{"g"})
    .receive([](bool) {}, [](caf::error&) {});
  auto b = spawn_client();
  caf::anon_send(b.conn, cmd(client_op::subscribe, 1, {"g"}));
  caf::anon_send(b.conn, cmd(client_op::unsubscribe, 2, {"g"}));
  ASSERT_TRUE(b.sink->wait_for_frames(2)) << ::testing::PrintToString(b.sink->frames());
  auto bf = b.sink->frames();
  EXPECT_NE(bf[0].find(R"("id":1,"op":"subscribe")"), std::string::npos) << bf[0];
  EXPECT_NE(bf[1].find(R"("id":2,"op":"unsubscribe")"), std::string::npos) << bf[1];
  // After the backoff the topic is back: A (held) gets a reset and events, B nothing.
  ASSERT_TRUE(a.sink->wait_for_frames(2, 3000ms)); // the reset
  pub("1");
  ASSERT_TRUE(a.sink->wait_for_frames(3));
  EXPECT_FALSE(b.sink->wait_for_frames(3, 300ms));
}

TEST_F(routing, a_closed_connection_is_freed_while_its_topics_live_on) {
  // Topics outlive their clients; nothing in them may keep an ended client's
  // actor (each one left behind was ~1.6 KiB for as long as the topic lived).
  auto stays = connect();
  request(stays, cmd(client_op::subscribe, 1, {"p", "q"}));
  auto leaves = connect();
  request(leaves, cmd(client_op::subscribe, 1, {"p", "q"}));
  caf::actor_addr addr = leaves.conn.address(); // this test's own reference
  auto* block = caf::actor_cast<caf::actor_control_block*>(addr);
  caf::anon_send(leaves.conn, closed_atom_v);
  leaves.conn = nullptr;
  EXPECT_TRUE(eventually([&] { return block->weak_refs.load() == 1; }))
    << "references left: " << block->weak_refs.load();
  // The topics are still there and still deliver to the client that stayed.
  auto before = stays.sink->count();
  publish("p", R"({"x":1})");
  EXPECT_TRUE(stays.sink->wait_for_frames(before + 1));
}

TEST_F(routing, connections_sharing_one_handler_table_each_answer_their_own_client) {
  // Many connections, several workers: every reply must reach the client
  // whose connection handled the request, never another one's.
  std::vector<client> clients;
  for (int i = 0; i < 64; ++i)
    clients.push_back(connect());
  for (uint64_t round = 1; round <= 5; ++round)
    for (size_t i = 0; i < clients.size(); ++i)
      caf::anon_send(clients[i].conn, cmd(client_op::ping, 1000 * i + round, {}));
  for (size_t i = 0; i < clients.size(); ++i) {
    ASSERT_TRUE(clients[i].sink->wait_for_frames(5)) << i;
    auto frames = clients[i].sink->frames();
    ASSERT_EQ(frames.size(), 5u);
    for (uint64_t round = 1; round <= 5; ++round)
      EXPECT_NE(frames[round - 1].find("\"id\":" + std::to_string(1000 * i + round) + ","),
                std::string::npos)
        << frames[round - 1];
  }
}

TEST_F(routing, a_connection_refuses_an_unknown_message_and_keeps_serving) {
  auto c = connect();
  caf::scoped_actor self{*sys};
  std::optional<caf::error> refused;
  // Its typed handle refuses such a send at compile time; a dynamically typed
  // one (as the inspector holds) delivers it.
  auto untyped = caf::actor_cast<caf::actor>(c.conn);
  self->request(untyped, 1s, std::string{"not a connection message"})
    .receive([&](const std::string&) {}, [&](caf::error& err) { refused = err; });
  ASSERT_TRUE(refused);
  EXPECT_EQ(*refused, caf::sec::unexpected_message);
  std::optional<actor_stats> stats;
  self->request(c.conn, 1s, inspect_atom_v)
    .receive([&](const actor_stats& s) { stats = s; }, [&](caf::error&) {});
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->kind, "connection");
  EXPECT_EQ(stats->id, c.conn.id());
  auto pong = request(c, cmd(client_op::ping, 7, {}));
  EXPECT_EQ(pong.rfind(R"({"type":"pong","id":7,)", 0), 0u) << pong;
}

TEST_F(routing, a_topic_describes_itself_as_valid_json_whatever_its_epoch_holds) {
  // Epochs come from outside (another node, Redis); quotes and backslashes in
  // one must not break the inspector's JSON.
  std::string epoch = "e\"1\\x";
  auto topic = sys->spawn(topic_actor, std::string{"odd"}, epoch, caf::actor{}, settings,
                          false, uint64_t{0});
  caf::scoped_actor self{*sys};
  std::optional<actor_stats> stats;
  self->request(topic, 1s, inspect_atom_v)
    .receive([&](const actor_stats& s) { stats = s; }, [&](caf::error&) {});
  ASSERT_TRUE(stats);
  auto json = to_json(*stats);
  simdjson::dom::parser parser;
  auto doc = parser.parse(json);
  ASSERT_FALSE(doc.error()) << json;
  EXPECT_EQ(std::string{doc["epoch"].get_string().value()}, epoch);
  EXPECT_EQ(std::string{doc["feed"].get_string().value()}, "up");
  self->send_exit(topic, caf::exit_reason::user_shutdown);
}
