// The namespace system's limits in the connection actor, against in-memory
// sessions: limits.max-channels-per-user across one user's connections and
// limits.max-rooms-per-namespace per Socket.IO namespace.

#include <gtest/gtest.h>

#include <caf/send.hpp>

#include "actors/auth.hpp"
#include "actors/metrics.hpp"
#include "actors/user_registry.hpp"
#include "support/json_fields.hpp"
#include "support/jwt_tokens.hpp"
#include "support/node_process.hpp"
#include "support/routing_core.hpp"

using namespace tickgate;
using namespace std::chrono_literals;
using tickgate::test::eventually;
using tickgate::test::json_field;
using tickgate::test::json_string;

namespace {

const std::string secret = "user-limits-secret";

struct user_limits : tickgate::test::routing_core {
  std::shared_ptr<user_registry> users = std::make_shared<user_registry>(3);

  void SetUp() override {
    settings.node_id = "t";
    auth_settings a;
    a.jwt_secret = secret;
    settings.auth = std::make_shared<const authenticator>(a);
    settings.users = users;
    settings.max_rooms_per_namespace = 2;
    start();
  }

  client connect_as(const std::string& user) {
    tickgate::test::token_spec t;
    t.key = secret;
    t.sub = user;
    t.exp = tickgate::test::now_s() + 300;
    client c;
    c.conn = sys->spawn(connection_actor, c.sink, router,
                        std::make_shared<const routing_settings>(settings),
                        client_info{"native", "", t.sign()});
    return c;
  }

  static client_command subscribe(uint64_t id, std::vector<std::string> topics,
                                  wire_format f = wire_format::json) {
    client_command c;
    c.op = client_op::subscribe;
    c.id = id;
    c.topics = std::move(topics);
    c.names = c.topics;
    c.format = f;
    return c;
  }

  // The reply to request `id` (JSON), waiting for it.
  static std::string reply(client& c, uint64_t id) {
    std::string out = "<none>";
    eventually([&] {
      for (auto& f : c.sink->frames())
        if (json_field(f, "id") == std::to_string(id))
          out = f;
      return out != "<none>";
    });
    return out;
  }
};

} // namespace

TEST_F(user_limits, one_users_connections_share_its_limit_and_an_ending_one_gives_back) {
  auto a = connect_as("alice");
  auto b = connect_as("alice");
  auto bob = connect_as("bob");
  caf::anon_send(a.conn, subscribe(1, {"t1", "t2"}));
  EXPECT_EQ(json_string(reply(a, 1), "type"), "ack");
  caf::anon_send(b.conn, subscribe(2, {"t3", "t4"}));
  auto refused = reply(b, 2);
  EXPECT_EQ(json_string(refused, "code"), "limit_exceeded");
  EXPECT_EQ(json_string(refused, "message").rfind("limits.max-channels-per-user:", 0), 0u) << refused;
  caf::anon_send(bob.conn, subscribe(3, {"t1", "t2", "t3"})); // another user, its own count
  EXPECT_EQ(json_string(reply(bob, 3), "type"), "ack");
  EXPECT_EQ(users->count("alice"), 2u);
  // A connection that ends abnormally gives its part back as well.
  caf::anon_send_exit(a.conn, caf::exit_reason::kill);
  EXPECT_TRUE(eventually([&] { return users->count("alice") == 0; }));
  caf::anon_send(b.conn, subscribe(4, {"t3", "t4", "t5"}));
  EXPECT_EQ(json_string(reply(b, 4), "type"), "ack");
  caf::anon_send(b.conn, closed_atom_v);
  caf::anon_send(bob.conn, closed_atom_v);
  EXPECT_TRUE(eventually([&] { return users->count("alice") + users->count("bob") == 0; }));
}

TEST_F(user_limits, a_socketio_namespace_holds_a_bounded_number_of_rooms) {
  auto c = connect();
  wire_format root{dialect::socketio, false, 0, 0};
  wire_format prices{dialect::socketio, false, 1, 0};
  caf::anon_send(c.conn, subscribe(1, {"price:A", "price:B"}, root));
  ASSERT_TRUE(c.sink->wait_for_frames(1));
  auto before = node_metrics().limit_namespace_refused.load();
  caf::anon_send(c.conn, subscribe(2, {"price:C"}, root));
  caf::anon_send(c.conn, subscribe(3, {"price:C", "price:D"}, prices));
  ASSERT_TRUE(c.sink->wait_for_frames(3));
  auto frames = c.sink->frames();
  EXPECT_NE(frames[1].find("limits.max-rooms-per-namespace: joining 1 more room(s) would exceed "
                           "the limit of 2 per namespace (/ holds 2)"),
            std::string::npos)
    << frames[1];
  EXPECT_NE(frames[2].find("42/prices,[\"subscription.confirmed\""), std::string::npos) << frames[2];
  EXPECT_EQ(node_metrics().limit_namespace_refused.load(), before + 1);
  caf::anon_send(c.conn, closed_atom_v);
}
