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
    // A topic with retained events outlives its last subscriber for the
    // history TTL; short here, so idle topics stop within the tests.
    settings.history.fallback.ttl = 300ms;
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
            R"({"type":"ack","id":1,"op":"subscribe","topics":["trade@AAPL"],"positions":{"trade@AAPL":{"epoch":"t-1","seq":0}}})");
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

namespace {

// Topics keep their history for a minute: what a client that reconnects finds.
struct resuming : routing {
  void SetUp() override {
    settings.max_subscriptions = 10;
    settings.topic_idle_grace = 100ms;
    settings.history.fallback = history_limits{5, 60s};
    settings.node_id = "r";
    start();
  }

  static client_command subscribe(uint64_t id, std::string topic, subscribe_options o) {
    auto c = cmd(client_op::subscribe, id, {std::move(topic)});
    c.options = std::move(o);
    return c;
  }

  // The seqs of the event frames from index `from` on.
  static std::vector<uint64_t> seqs(const std::vector<std::string>& frames, size_t from = 0) {
    std::vector<uint64_t> out;
    for (size_t i = from; i < frames.size(); ++i) {
      auto at = frames[i].find("\"seq\":");
      if (frames[i].find("\"type\":\"event\"") != std::string::npos && at != std::string::npos)
        out.push_back(std::stoull(frames[i].substr(at + 6)));
    }
    return out;
  }

  static std::string epoch_of(const std::string& frame) {
    auto i = frame.find("\"epoch\":\"") + 9;
    return frame.substr(i, frame.find('"', i) - i);
  }

  // Publishes 1..n on `topic` and waits until `watcher` saw them.
  void publish_n(client& watcher, const std::string& topic, int from, int to) {
    auto before = watcher.sink->count();
    for (int i = from; i <= to; ++i)
      publish(topic, std::to_string(i));
    ASSERT_TRUE(watcher.sink->wait_for_frames(before + static_cast<size_t>(to - from + 1)));
  }
};

} // namespace

TEST_F(resuming, since_replays_what_was_missed_then_goes_live_without_gap_or_duplicate) {
  auto watcher = connect();
  request(watcher, cmd(client_op::subscribe, 1, {"trade@X"}));
  publish_n(watcher, "trade@X", 1, 4);
  auto epoch = epoch_of(watcher.sink->frames()[1]);

  auto c = connect();
  auto ack = request(c, subscribe(7, "trade@X", {{{"trade@X", {epoch, 2}}}, 0, false, 0}));
  EXPECT_EQ(ack.rfind(R"({"type":"ack","id":7)", 0), 0u) << ack;
  ASSERT_TRUE(c.sink->wait_for_frames(3)); // the ack, then 3 and 4
  publish_n(watcher, "trade@X", 5, 6);
  ASSERT_TRUE(c.sink->wait_for_frames(5));
  auto frames = c.sink->frames();
  EXPECT_EQ(frames[0], ack); // the ack comes first
  EXPECT_EQ(seqs(frames), (std::vector<uint64_t>{3, 4, 5, 6}));
  EXPECT_EQ(node_metrics().recover_ok.load() > 0, true);
}

TEST_F(resuming, a_position_of_another_epoch_or_past_the_ring_gets_live_events_only) {
  auto& m = node_metrics();
  auto watcher = connect();
  request(watcher, cmd(client_op::subscribe, 1, {"trade@Y"}));
  publish_n(watcher, "trade@Y", 1, 8); // the ring keeps 4..8
  auto epoch = epoch_of(watcher.sink->frames()[1]);
  auto epoch_misses = m.recover_epoch.load();
  auto gap_misses = m.recover_gap.load();

  auto other_epoch = connect();
  request(other_epoch, subscribe(2, "trade@Y", {{{"trade@Y", {"elsewhere-1", 7}}}, 0, false, 0}));
  auto too_old = connect();
  request(too_old, subscribe(3, "trade@Y", {{{"trade@Y", {epoch, 2}}}, 0, false, 0}));
  auto future = connect();
  request(future, subscribe(4, "trade@Y", {{{"trade@Y", {epoch, 99}}}, 0, false, 0}));
  publish_n(watcher, "trade@Y", 9, 9);
  for (auto* c : {&other_epoch, &too_old, &future}) {
    ASSERT_TRUE(c->sink->wait_for_frames(2));
    EXPECT_EQ(seqs(c->sink->frames()), (std::vector<uint64_t>{9}));
  }
  EXPECT_EQ(m.recover_epoch.load(), epoch_misses + 1);
  EXPECT_EQ(m.recover_gap.load(), gap_misses + 2);
}

TEST_F(resuming, last_rewinds_and_snapshot_starts_at_the_latest_full_state) {
  auto watcher = connect();
  request(watcher, cmd(client_op::subscribe, 1, {"depth@Z"}));
  auto book = [&](const std::string& payload, bool snapshot) {
    auto p = std::make_shared<publication>();
    p->topic = "depth@Z";
    p->payload = payload;
    p->snapshot = snapshot;
    p->ts_us = now_us();
    caf::anon_send(router, route_atom_v, publication_ptr{p});
  };
  book(R"({"bids":[[1,5]]})", true);
  book(R"({"bids":[[1,4]]})", false);
  book(R"({"bids":[[2,1]]})", false);
  ASSERT_TRUE(watcher.sink->wait_for_frames(4));

  auto rewind = connect();
  request(rewind, subscribe(2, "depth@Z", {{}, 2, false, 0}));
  ASSERT_TRUE(rewind.sink->wait_for_frames(3));
  EXPECT_EQ(seqs(rewind.sink->frames()), (std::vector<uint64_t>{2, 3}));

  auto books = connect();
  request(books, subscribe(3, "depth@Z", {{}, 0, true, 0}));
  ASSERT_TRUE(books.sink->wait_for_frames(4));
  auto frames = books.sink->frames();
  EXPECT_EQ(seqs(frames), (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_NE(frames[1].find(R"("data":{"bids":[[1,5]]})"), std::string::npos) << frames[1];
}

TEST_F(resuming, history_outlives_the_last_subscriber_so_a_reconnect_recovers) {
  auto& m = node_metrics();
  auto live = m.topic_live.load();
  auto subscriptions = m.topic_subscriptions.load();
  auto c = connect();
  request(c, cmd(client_op::subscribe, 1, {"trade@W"}));
  publish_n(c, "trade@W", 1, 2);
  auto epoch = epoch_of(c.sink->frames()[1]);
  caf::anon_send(c.conn, closed_atom_v); // the client is gone
  EXPECT_TRUE(eventually([&] { return m.topic_subscriptions.load() == subscriptions; }));
  // Published while nobody listens: retained, not lost.
  publish("trade@W", "3");
  auto back = connect();
  request(back, subscribe(2, "trade@W", {{{"trade@W", {epoch, 2}}}, 0, false, 0}));
  ASSERT_TRUE(back.sink->wait_for_frames(2));
  EXPECT_EQ(seqs(back.sink->frames()), (std::vector<uint64_t>{3}));
  EXPECT_EQ(m.topic_live.load(), live + 1);
}

TEST_F(resuming, a_topic_without_retained_events_stops_after_the_grace) {
  auto& m = node_metrics();
  auto live = m.topic_live.load();
  auto c = connect();
  request(c, cmd(client_op::subscribe, 1, {"quiet"}));
  EXPECT_EQ(m.topic_live.load(), live + 1);
  request(c, cmd(client_op::unsubscribe, 2, {"quiet"}));
  EXPECT_TRUE(eventually([&] { return m.topic_live.load() == live; }, 3000ms));
}

TEST_F(resuming, a_throttled_subscriber_gets_the_newest_value_and_never_misses_the_last) {
  auto& m = node_metrics();
  auto conflated = m.topic_conflated.load();
  auto every = connect();
  request(every, cmd(client_op::subscribe, 1, {"depth@T"}));
  auto slow = connect();
  request(slow, subscribe(2, "depth@T", {{}, 0, false, 200}));
  publish_n(every, "depth@T", 1, 100); // a burst well inside one interval
  // The first goes out at once, the newest of the rest when the interval
  // ends; nothing in between.
  ASSERT_TRUE(eventually([&] {
    auto s = seqs(slow.sink->frames());
    return !s.empty() && s.back() == 100;
  }, 3000ms));
  auto got = seqs(slow.sink->frames());
  EXPECT_LT(got.size(), 50u); // two or three unless the burst took seconds
  EXPECT_TRUE(std::is_sorted(got.begin(), got.end()));
  EXPECT_EQ(got.front(), 1u);
  EXPECT_GE(m.topic_conflated.load() - conflated, 100u - got.size() - 1);
}
