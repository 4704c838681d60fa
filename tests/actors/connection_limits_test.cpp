// The connection actor's inbound rate limit and idle timeout, against
// in-memory sessions, on CAF's test_coordinator: the test runs every actor
// turn itself and the clock moves only when it says so (the limiter reads
// the actor system's clock), so nothing depends on how fast the test runs.

#include <gtest/gtest.h>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/send.hpp>

#include "actors/connection_actor.hpp"
#include "actors/metrics.hpp"
#include "actors/router_actor.hpp"
#include "support/fake_sink.hpp"
#include "support/routing_core.hpp"
#include "support/json_fields.hpp"
#include "support/node_process.hpp"

using namespace tickgate;
using namespace std::chrono_literals;
using tickgate::test::fake_sink;
using tickgate::test::json_field;

namespace {

struct connection_limits : tickgate::test::routing_core {
  caf::scheduler::test_coordinator* sched = nullptr;

  void SetUp() override {
    cfg.set("scheduler.policy", caf::atom("testing"));
    settings.node_id = "t";
    settings.inbound.standard = rate_spec{1, 3};
    settings.inbound.abuse_drops = 0;
  }

  // Starts the core (after the test's own settings) and runs its start-up.
  client connect_first() {
    start();
    sched = &dynamic_cast<caf::scheduler::test_coordinator&>(sys->scheduler());
    return connect_next();
  }

  client connect_next() {
    auto c = connect_first();
    sched->run();
    return c;
  }

  void TearDown() override {
    caf::anon_send(router, stop_atom_v);
    while (sched->run() > 0 || sched->trigger_timeouts() > 0) {
    }
    sys->await_all_actors_done();
  }

  static client_command ping(uint64_t id) {
    client_command c;
    c.op = client_op::ping;
    c.id = id;
    return c;
  }

  static size_t count_type(const std::vector<std::string>& frames, const char* type) {
    size_t n = 0;
    for (auto& f : frames)
      n += json_field(f, "type") == std::string{"\""} + type + "\"";
    return n;
  }
};

} // namespace

TEST_F(connection_limits, messages_over_the_rate_are_dropped_with_one_rate_limited_notice) {
  auto c = connect_first();
  for (uint64_t i = 1; i <= 10; ++i)
    caf::anon_send(c.conn, ping(i));
  sched->run(); // all ten handled at one instant
  auto frames = c.sink->frames();
  ASSERT_EQ(frames.size(), 4u);
  EXPECT_EQ(count_type(frames, "pong"), 3u);
  EXPECT_EQ(json_field(frames[3], "code"), "\"rate_limited\"");
  EXPECT_EQ(json_field(frames[3], "id"), "4"); // the first message dropped
  EXPECT_FALSE(c.sink->close_code());
  // A second later one more message may pass, and the notice is due again.
  sched->advance_time(1s);
  for (uint64_t i = 11; i <= 12; ++i)
    caf::anon_send(c.conn, ping(i));
  sched->run();
  frames = c.sink->frames();
  ASSERT_EQ(frames.size(), 6u);
  EXPECT_EQ(json_field(frames[4], "id"), "11");
  EXPECT_EQ(json_field(frames[5], "code"), "\"rate_limited\"");
  caf::anon_send(c.conn, closed_atom_v);
}

TEST_F(connection_limits, undecodable_frames_count_against_the_rate_too) {
  auto c = connect_first();
  for (int i = 0; i < 6; ++i)
    caf::anon_send(c.conn, client_error{error_code::bad_request, "bad", {}, wire_format::json, {}});
  sched->run();
  auto frames = c.sink->frames();
  ASSERT_EQ(frames.size(), 4u);
  EXPECT_EQ(json_field(frames[0], "code"), "\"bad_request\"");
  EXPECT_EQ(json_field(frames[3], "code"), "\"rate_limited\"");
  caf::anon_send(c.conn, closed_atom_v);
}

TEST_F(connection_limits, sustained_flooding_closes_the_connection_with_1008) {
  settings.inbound.abuse_drops = 5;
  auto c = connect_first();
  for (uint64_t i = 1; i <= 50; ++i)
    caf::anon_send(c.conn, ping(i));
  sched->run();
  ASSERT_TRUE(c.sink->close_code().has_value());
  EXPECT_EQ(*c.sink->close_code(), 1008);
  auto frames = c.sink->frames();
  EXPECT_EQ(count_type(frames, "pong"), 3u);
  EXPECT_EQ(count_type(frames, "error"), 1u);
  caf::anon_send(c.conn, closed_atom_v);
}

TEST_F(connection_limits, the_idle_timeout_closes_only_connections_that_never_subscribed) {
  settings.inbound.idle_timeout = 100ms;
  auto idle = connect_first();
  auto subscriber = connect_next();
  client_command sub;
  sub.op = client_op::subscribe;
  sub.id = 1;
  sub.topics = {"t"};
  caf::anon_send(subscriber.conn, sub);
  caf::anon_send(idle.conn, ping(1)); // talking is not subscribing
  sched->run();
  sched->advance_time(99ms);
  sched->run();
  EXPECT_FALSE(idle.sink->close_code()); // not before its time
  sched->advance_time(1ms); // both deadlines are due now
  sched->run();
  ASSERT_TRUE(idle.sink->close_code().has_value());
  EXPECT_EQ(*idle.sink->close_code(), 1008);
  EXPECT_FALSE(subscriber.sink->close_code());
  caf::anon_send(idle.conn, closed_atom_v);
  caf::anon_send(subscriber.conn, closed_atom_v);
}

TEST_F(connection_limits, without_an_idle_timeout_nobody_is_closed) {
  auto c = connect_first();
  sched->advance_time(std::chrono::hours{1});
  sched->run();
  EXPECT_FALSE(c.sink->close_code());
  caf::anon_send(c.conn, closed_atom_v);
}

TEST_F(connection_limits, leaving_a_socketio_namespace_is_never_dropped) {
  auto c = connect_first();
  wire_format ns{dialect::socketio, false, 0, 1};
  auto before = node_metrics().topic_subscriptions.load();
  client_command sub;
  sub.op = client_op::subscribe;
  sub.topics = {"price:X"};
  sub.names = sub.topics;
  sub.format = ns;
  caf::anon_send(c.conn, sub);
  sched->run();
  ASSERT_EQ(node_metrics().topic_subscriptions.load(), before + 1);
  for (uint64_t i = 1; i <= 10; ++i) { // spends the rest of the burst, then drops
    auto p = ping(i);
    p.format = ns;
    caf::anon_send(c.conn, p);
  }
  client_command leave;
  leave.op = client_op::unsubscribe;
  leave.topics = {"price:X"};
  leave.names = leave.topics;
  leave.format = ns;
  leave.ctx.verb = "disconnect";
  caf::anon_send(c.conn, leave);
  sched->run();
  EXPECT_EQ(node_metrics().topic_subscriptions.load(), before);
  caf::anon_send(c.conn, closed_atom_v);
}
