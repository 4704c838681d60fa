// The connection actor's message table, one message at a time, on CAF's
// deterministic test scheduler: every actor runs only inside sched().run(),
// and delayed messages fire when the test advances the clock.

#include <gtest/gtest.h>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/send.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "actors/auth.hpp"
#include "actors/connection_actor.hpp"
#include "actors/router_actor.hpp"
#include "support/fake_sink.hpp"
#include "support/jwt_tokens.hpp"

using namespace tickgate;
using namespace std::chrono_literals;
using tickgate::test::fake_sink;

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

struct connection_actor_test : ::testing::Test {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  caf::actor router;
  routing_settings settings;

  void start() {
    cfg.set("scheduler.policy", caf::atom("testing"));
    sys = std::make_unique<caf::actor_system>(cfg);
    router = sys->spawn(router_actor, settings, std::vector<caf::actor>{});
    sched().run();
  }

  void SetUp() override {
    settings.node_id = "t";
    settings.topic_idle_grace = 100ms;
    settings.max_subscriptions = 4;
  }

  void TearDown() override {
    if (!sys)
      return;
    for (auto& c : clients)
      caf::anon_send(c, closed_atom_v);
    caf::anon_send(router, stop_atom_v);
    sched().run();
    // Timers still pending on the test clock hold their actors.
    sys->await_actors_before_shutdown(false);
  }

  caf::scheduler::test_coordinator& sched() {
    return dynamic_cast<caf::scheduler::test_coordinator&>(sys->scheduler());
  }

  struct client {
    std::shared_ptr<fake_sink> sink = std::make_shared<fake_sink>();
    connection_actor_type conn;
  };
  std::vector<connection_actor_type> clients;

  client connect(std::string token = {}) {
    client c;
    client_info info;
    info.token = std::move(token);
    c.conn = sys->spawn(connection_actor, c.sink, router,
                        std::make_shared<const routing_settings>(settings), std::move(info));
    clients.push_back(c.conn);
    sched().run();
    return c;
  }

  actor_stats inspect(client& c) {
    std::optional<actor_stats> got;
    // Spawned with an argument and returning a behaviour: CAF 0.17's factory
    // for an argument-less, void-returning function dereferences an empty
    // argument tuple (UBSan stops the run on it).
    auto asker = sys->spawn(
      [&](caf::event_based_actor* self, connection_actor_type target) {
        self->request(target, caf::infinite, inspect_atom_v).then([&](const actor_stats& s) {
          got = s;
        });
        return caf::behavior{[](int) {}};
      },
      c.conn);
    sched().run();
    caf::anon_send_exit(asker, caf::exit_reason::user_shutdown);
    sched().run();
    EXPECT_TRUE(got);
    return got.value_or(actor_stats{});
  }

  // One field of the actor's self-description ("subs": subscriptions held).
  std::string described(client& c, const std::string& key) {
    for (auto& [k, value] : inspect(c).extra)
      if (k == key)
        return value;
    return "(none)";
  }

  static client_command cmd(client_op op, uint64_t id, std::vector<std::string> topics = {}) {
    client_command c;
    c.op = op;
    c.id = id;
    c.topics = std::move(topics);
    return c;
  }

  // Sends `msg` to the client's actor and runs every actor until all is
  // handled; returns the frames the client got meanwhile.
  template <class... Ts>
  std::vector<std::string> exchange(client& c, Ts&&... msg) {
    auto before = c.sink->count();
    caf::anon_send(c.conn, std::forward<Ts>(msg)...);
    sched().run();
    auto frames = c.sink->frames();
    return {frames.begin() + static_cast<std::ptrdiff_t>(before), frames.end()};
  }
};

} // namespace

TEST_F(connection_actor_test, a_ping_is_answered_with_a_pong_carrying_its_id) {
  start();
  auto c = connect();
  auto frames = exchange(c, cmd(client_op::ping, 7));
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_TRUE(contains(frames[0], R"("type":"pong")")) << frames[0];
  EXPECT_TRUE(contains(frames[0], R"("id":7)")) << frames[0];
}

TEST_F(connection_actor_test, a_subscribe_is_acked_once_the_topic_attached_it) {
  start();
  auto c = connect();
  // The request goes to the router, which spawns the topic; the topic's
  // attached_atom completes it. All of that happens inside one run().
  auto frames = exchange(c, cmd(client_op::subscribe, 1, {"trade@A", "trade@B"}));
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0], R"({"type":"ack","id":1,"op":"subscribe","topics":["trade@A","trade@B"],)"
                       R"("positions":{"trade@A":{"epoch":"t-1","seq":0},"trade@B":{"epoch":"t-2","seq":0}}})");
  EXPECT_EQ(described(c, "subs"), "2");
}

TEST_F(connection_actor_test, an_unsubscribe_is_acked_once_the_topic_detached_it) {
  start();
  auto c = connect();
  exchange(c, cmd(client_op::subscribe, 1, {"trade@A"}));
  auto frames = exchange(c, cmd(client_op::unsubscribe, 2, {"trade@A"}));
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0], R"({"type":"ack","id":2,"op":"unsubscribe","topics":["trade@A"]})");
  EXPECT_EQ(described(c, "subs"), "0");
}

TEST_F(connection_actor_test, an_unsubscribe_before_the_attach_completes_gets_both_acks_in_order) {
  start();
  auto c = connect();
  caf::anon_send(c.conn, cmd(client_op::subscribe, 1, {"trade@A"}));
  caf::anon_send(c.conn, cmd(client_op::unsubscribe, 2, {"trade@A"}));
  sched().run();
  auto frames = c.sink->frames();
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_TRUE(contains(frames[0], R"("id":1,"op":"subscribe")")) << frames[0];
  EXPECT_TRUE(contains(frames[1], R"("id":2,"op":"unsubscribe")")) << frames[1];
}

TEST_F(connection_actor_test, a_frame_the_session_could_not_decode_is_answered_with_its_error) {
  start();
  auto c = connect();
  auto frames = exchange(c, client_error{error_code::bad_request, "not JSON", 9, wire_format::json, {}});
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_TRUE(contains(frames[0], R"("type":"error")")) << frames[0];
  EXPECT_TRUE(contains(frames[0], "not JSON")) << frames[0];
  EXPECT_TRUE(contains(frames[0], R"("id":9)")) << frames[0];
}

TEST_F(connection_actor_test, a_kick_closes_the_client_with_1008) {
  start();
  auto c = connect();
  exchange(c, kick_atom_v);
  EXPECT_EQ(c.sink->close_code(), std::optional<uint16_t>{1008});
}

TEST_F(connection_actor_test, a_broadcast_reaches_the_client_as_a_system_message) {
  start();
  auto c = connect();
  auto frames = exchange(c, broadcast_atom_v, std::string{R"({"notice":"maintenance at noon"})"});
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_TRUE(contains(frames[0], "maintenance at noon")) << frames[0];
}

TEST_F(connection_actor_test, events_the_session_dropped_are_reported_to_the_client) {
  start();
  auto c = connect();
  auto frames = exchange(c, dropped_atom_v, uint64_t{12});
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_TRUE(contains(frames[0], R"("event":"dropped")")) << frames[0];
  EXPECT_TRUE(contains(frames[0], R"("count":12)")) << frames[0];
}

TEST_F(connection_actor_test, inspect_describes_the_connection) {
  start();
  auto c = connect();
  exchange(c, cmd(client_op::subscribe, 1, {"trade@A"}));
  exchange(c, cmd(client_op::ping, 2));
  auto s = inspect(c);
  EXPECT_EQ(s.kind, "connection");
  EXPECT_EQ(s.msgs_in, 2u) << "client requests handled";
  EXPECT_EQ(s.id, c.conn.id());
  EXPECT_EQ(described(c, "subs"), "1");
}

TEST_F(connection_actor_test, closed_ends_the_actor) {
  start();
  auto c = connect();
  exchange(c, cmd(client_op::subscribe, 1, {"trade@A"}));
  bool down = false;
  auto watcher = sys->spawn(
    [&](caf::event_based_actor* self, caf::actor_addr target) {
      self->monitor(target);
      self->set_down_handler([&, target](const caf::down_msg& dm) { down = dm.source == target; });
      return caf::behavior{[](int) {}};
    },
    c.conn.address());
  sched().run();
  exchange(c, closed_atom_v);
  EXPECT_TRUE(down);
  caf::anon_send_exit(watcher, caf::exit_reason::user_shutdown);
  EXPECT_FALSE(c.sink->close_code()) << "the socket was already gone";
}

TEST_F(connection_actor_test, the_idle_deadline_closes_a_client_that_never_subscribed) {
  settings.inbound.idle_timeout = 2s;
  start();
  auto idle = connect();
  auto busy = connect();
  exchange(busy, cmd(client_op::subscribe, 1, {"trade@A"}));
  exchange(idle, cmd(client_op::ping, 1)); // talking is not subscribing
  sched().advance_time(1s);
  sched().run();
  EXPECT_FALSE(idle.sink->close_code());
  sched().advance_time(1s);
  sched().run();
  EXPECT_EQ(idle.sink->close_code(), std::optional<uint16_t>{1008});
  EXPECT_FALSE(busy.sink->close_code());
}

TEST_F(connection_actor_test, the_expiry_timer_closes_private_subscriptions_once_the_token_ran_out) {
  const std::string secret = "expiry test secret";
  auth_settings a;
  a.jwt_secret = secret;
  a.leeway = 1s;
  settings.auth = std::make_shared<const authenticator>(a);
  start();
  tickgate::test::token_spec t;
  t.key = secret;
  t.exp = tickgate::test::now_s(); // valid until the leeway's end, within a second
  auto c = connect(t.sign());
  auto frames = exchange(c, cmd(client_op::subscribe, 1, {"orders:alice"}));
  ASSERT_EQ(frames.size(), 1u);
  ASSERT_TRUE(contains(frames[0], R"("type":"ack")")) << frames[0];
  // The check reads the wall clock: wait until the token's end has passed
  // on it, then let the actor's timer fire.
  auto end = std::chrono::system_clock::time_point{std::chrono::seconds{*t.exp + 1}};
  while (std::chrono::system_clock::now() < end)
    std::this_thread::sleep_for(20ms);
  sched().advance_time(2s);
  sched().run();
  frames = c.sink->frames();
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_TRUE(contains(frames[1], "token expired; subscriptions closed: orders:alice")) << frames[1];
  EXPECT_EQ(described(c, "subs"), "0");
}
