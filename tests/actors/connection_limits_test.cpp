// The connection actor's inbound rate limit and idle timeout, against
// in-memory sessions.

#include <gtest/gtest.h>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>
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
using tickgate::test::eventually;
using tickgate::test::fake_sink;
using tickgate::test::json_field;

namespace {

struct connection_limits : tickgate::test::routing_core {
  void SetUp() override {
    settings.node_id = "t";
    // A burst of 3, then one message per 1000 s: nothing refills while a
    // test runs, however slowly.
    settings.inbound.standard = rate_spec{0.001, 3};
    settings.inbound.abuse_drops = 0;
    start();
  }

  // The messages `conn` dropped, asked after everything sent to it so far
  // (its answer comes after it handled them).
  uint64_t dropped_by(const connection_actor_type& conn) {
    caf::scoped_actor self{*sys};
    std::string dropped = "-1";
    self->request(conn, caf::infinite, inspect_atom_v)
      .receive(
        [&](const actor_stats& s) {
          for (auto& [key, value] : s.extra)
            if (key == "rate_dropped")
              dropped = value;
        },
        [&](caf::error&) {});
    return std::stoull(dropped);
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
  auto c = connect();
  for (uint64_t i = 1; i <= 10; ++i)
    caf::anon_send(c.conn, ping(i));
  ASSERT_EQ(dropped_by(c.conn), 7u); // all ten handled: nothing more may follow
  auto frames = c.sink->frames();
  ASSERT_EQ(frames.size(), 4u);
  EXPECT_EQ(count_type(frames, "pong"), 3u);
  EXPECT_EQ(json_field(frames[3], "code"), "\"rate_limited\"");
  EXPECT_EQ(json_field(frames[3], "id"), "4"); // the first message dropped
  EXPECT_FALSE(c.sink->close_code());
  caf::anon_send(c.conn, closed_atom_v);
}

TEST_F(connection_limits, undecodable_frames_count_against_the_rate_too) {
  auto c = connect();
  for (int i = 0; i < 6; ++i)
    caf::anon_send(c.conn, client_error{error_code::bad_request, "bad", {}, wire_format::json, {}});
  ASSERT_EQ(dropped_by(c.conn), 3u); // all six handled
  auto frames = c.sink->frames();
  ASSERT_EQ(frames.size(), 4u);
  EXPECT_EQ(json_field(frames[0], "code"), "\"bad_request\"");
  EXPECT_EQ(json_field(frames[3], "code"), "\"rate_limited\"");
  caf::anon_send(c.conn, closed_atom_v);
}

TEST_F(connection_limits, sustained_flooding_closes_the_connection_with_1008) {
  settings.inbound.abuse_drops = 5;
  auto c = connect();
  for (uint64_t i = 1; i <= 50; ++i)
    caf::anon_send(c.conn, ping(i));
  ASSERT_TRUE(eventually([&] { return c.sink->close_code().has_value(); }));
  EXPECT_EQ(*c.sink->close_code(), 1008);
  auto frames = c.sink->frames();
  EXPECT_EQ(count_type(frames, "pong"), 3u);
  EXPECT_EQ(count_type(frames, "error"), 1u);
  caf::anon_send(c.conn, closed_atom_v);
}

TEST_F(connection_limits, the_idle_timeout_closes_only_connections_that_never_subscribed) {
  settings.inbound.idle_timeout = 100ms;
  auto idle = connect();
  auto subscriber = connect();
  client_command sub;
  sub.op = client_op::subscribe;
  sub.id = 1;
  sub.topics = {"t"};
  caf::anon_send(subscriber.conn, sub);
  caf::anon_send(idle.conn, ping(1)); // talking is not subscribing
  ASSERT_TRUE(eventually([&] { return idle.sink->close_code().has_value(); }, 2000ms));
  EXPECT_EQ(*idle.sink->close_code(), 1008);
  std::this_thread::sleep_for(200ms);
  EXPECT_FALSE(subscriber.sink->close_code());
  caf::anon_send(idle.conn, closed_atom_v);
  caf::anon_send(subscriber.conn, closed_atom_v);
}

TEST_F(connection_limits, without_an_idle_timeout_nobody_is_closed) {
  auto c = connect();
  std::this_thread::sleep_for(300ms);
  EXPECT_FALSE(c.sink->close_code());
  caf::anon_send(c.conn, closed_atom_v);
}

TEST_F(connection_limits, leaving_a_socketio_namespace_is_never_dropped) {
  auto c = connect();
  wire_format ns{dialect::socketio, false, 0, 1};
  auto before = node_metrics().topic_subscriptions.load();
  client_command sub;
  sub.op = client_op::subscribe;
  sub.topics = {"price:X"};
  sub.names = sub.topics;
  sub.format = ns;
  caf::anon_send(c.conn, sub);
  ASSERT_TRUE(eventually([&] { return node_metrics().topic_subscriptions.load() == before + 1; }));
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
  EXPECT_TRUE(eventually([&] { return node_metrics().topic_subscriptions.load() == before; }));
  caf::anon_send(c.conn, closed_atom_v);
}
