// The /admin Socket.IO namespace and maintenance mode against the real
// binary, with the Engine.IO frames a socket.io-client sends: admin events
// for role admin only, admin.metrics / admin.broadcast / admin.command with
// their acks, admin.stats pushed while joined, admin.alert when Redis goes
// away, and maintenance mode from the namespace, tickgatectl and /admin/.

#include <regex>
#include <string>

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include "support/json_fields.hpp"
#include "support/jwt_tokens.hpp"
#include "support/node_process.hpp"
#include "support/raw_upgrade.hpp"
#include "support/redis_process.hpp"
#include "support/ws_client.hpp"

using namespace std::chrono_literals;
using namespace tickgate::test;

namespace {

const std::string secret = "tickgate-test-secret";
const std::string sio_path = "/socket.io/?EIO=4&transport=websocket";

std::vector<std::string> admin_node(std::vector<std::string> extra = {}) {
  std::vector<std::string> args{"--auth.jwt-secret=" + secret, "--admin.stats-interval=200ms"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

std::string token_for(const std::string& user, const std::string& role = "") {
  token_spec t;
  t.key = secret;
  t.sub = user;
  t.role = role;
  t.exp = now_s() + 300;
  return t.sign();
}

std::string next(ws_client& c, std::chrono::milliseconds t = 5000ms) {
  auto m = c.read(t);
  return m ? epochs_masked(m->data) : "<nothing>";
}

std::string sid_free(const std::string& frame) {
  return std::regex_replace(frame, std::regex{R"("sid":"[0-9a-f]{16}#\d+")"}, R"("sid":"S")");
}

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.rfind(prefix, 0) == 0;
}

// The next frame starting with `prefix` (others skipped), or "<nothing>".
std::string next_starting(ws_client& c, const std::string& prefix,
                          std::chrono::milliseconds t = 5000ms) {
  auto m = c.read_until([&](const ws_message& m) { return starts_with(m.data, prefix); }, t);
  return m ? m->data : "<nothing>";
}

// A Socket.IO client joined to /admin as `user` with role admin.
struct admin_client {
  ws_client ws;

  admin_client(uint16_t port, const std::string& user = "root")
    : ws(port, sio_path) {
    next(ws); // Engine.IO open
    ws.send_text(R"(40/admin,{"token":")" + token_for(user, "admin") + R"("})");
    EXPECT_EQ(sid_free(next(ws)), R"(40/admin,{"sid":"S"})");
    EXPECT_EQ(sid_free(next(ws)), R"(42/admin,["connected",{"sid":"S","namespace":"/admin"}])");
  }

  // Emits `event` with `arg` and ack id `id`; returns the ack packet.
  std::string call(int id, const std::string& event, const std::string& arg = "") {
    ws.send_text("42/admin," + std::to_string(id) + "[\"" + event + "\""
                 + (arg.empty() ? "" : "," + arg) + "]");
    return next_starting(ws, "43/admin," + std::to_string(id) + "[");
  }
};

// The `result` object of a successful ack, or "<failed: ...>".
std::string result_of(const std::string& ack) {
  auto open = ack.find('[');
  if (open == std::string::npos)
    return "<failed: " + ack + ">";
  auto body = ack.substr(open + 1, ack.size() - open - 2);
  if (json_field(body, "success") != "true")
    return "<failed: " + ack + ">";
  return json_field(body, "result");
}

int publish(uint16_t port, const std::string& topic, const std::string& data) {
  return http_request(port, "POST", "/api/publish",
                      R"({"topic":")" + topic + R"(","data":)" + data + "}")
    .status;
}

std::string subscribe(ws_client& c, const std::string& topic) {
  c.send_text(R"({"op":"subscribe","id":1,"topics":[")" + topic + R"("]})");
  return next(c);
}

int upgrade_status(uint16_t port, std::string* retry_after = nullptr, std::string* body = nullptr) {
  boost::asio::io_context ioc;
  auto r = upgrade(ioc, port, "", 0, "/v1");
  if (retry_after)
    *retry_after = r.retry_after;
  if (body)
    *body = r.body;
  return r.status;
}

command_result ctl(uint16_t admin_port, const std::string& args) {
  return run_command(tickgate_binary() + "ctl --node 127.0.0.1:" + std::to_string(admin_port)
                     + " --secret s3cret " + args);
}

} // namespace

TEST(admin_namespace, only_role_admin_may_send_admin_events) {
  node_process node{admin_node()};
  ws_client user{node.port(), sio_path};
  next(user);
  user.send_text(R"(40{"token":")" + token_for("alice") + R"("})");
  next(user);
  next(user);
  user.send_text(R"(421["admin.command",{"command":"stats"}])");
  EXPECT_EQ(next(user),
            R"x(431[{"success":false,"error":"admin events are for clients admitted to an admin namespace (role admin)","code":"forbidden"}])x");
  user.send_text(R"(40/admin,{"token":")" + token_for("alice") + R"("})");
  EXPECT_EQ(next(user),
            R"(44/admin,{"message":"forbidden: namespace /admin needs role admin","data":{"code":"forbidden"}})");
  user.send_text(R"(42/admin,2["admin.metrics"])");
  EXPECT_EQ(next(user),
            R"(43/admin,2[{"success":false,"error":"namespace /admin is not connected","code":"forbidden"}])");

  admin_client admin{node.port()};
  auto ack = admin.call(3, "admin.command", R"({"command":"stats"})");
  EXPECT_EQ(json_field(result_of(ack), "conn").find(R"("open":2)"), 1u) << ack;
  // A bad command is answered, not dropped.
  EXPECT_EQ(admin.call(4, "admin.command", R"({"command":"restart-topic","args":"bad topic"})"),
            R"(43/admin,4[{"success":false,"error":"usage: restart <topic>","code":"bad_request"}])");
}

TEST(admin_namespace, admin_metrics_is_answered_with_the_nodes_figures) {
  node_process node{admin_node()};
  admin_client admin{node.port()};
  admin.ws.send_text(R"(42/admin,1["admin.metrics"])");
  auto event = next_starting(admin.ws, R"(42/admin,["admin.metrics",)");
  EXPECT_NE(event.find(R"("conn":{"open":1,)"), std::string::npos) << event;
  EXPECT_NE(event.find(R"("uptime_ms":)"), std::string::npos) << event;
  auto ack = next_starting(admin.ws, "43/admin,1[");
  EXPECT_NE(json_field(result_of(ack), "topic"), "<missing>") << ack;
}

TEST(admin_namespace, admin_stats_arrive_every_interval_while_joined_and_stop_after_leaving) {
  node_process node{admin_node()};
  admin_client admin{node.port()};
  auto first = next_starting(admin.ws, R"(42/admin,["admin.stats",)", 2000ms);
  EXPECT_NE(first.find(R"("conn":{"open":1,)"), std::string::npos) << first;
  EXPECT_NE(next_starting(admin.ws, R"(42/admin,["admin.stats",)", 2000ms), "<nothing>");
  admin.ws.send_text("41/admin,");
  // A push already on its way may still arrive; then they stop (a quiet
  // spell of two intervals ends the drain, unless pushes never stop).
  for (int i = 0; i < 20 && admin.ws.read(400ms); ++i) {
  }
  EXPECT_EQ(next_starting(admin.ws, R"(42/admin,["admin.stats",)", 700ms), "<nothing>");
}

TEST(admin_namespace, admin_broadcast_reaches_every_client_in_its_dialect) {
  node_process node{admin_node()};
  ws_client native{node.port(), "/v1"};
  ws_client room{node.port(), sio_path};
  next(room);
  room.send_text("40");
  next(room);
  next(room);
  admin_client admin{node.port()};
  EXPECT_EQ(result_of(admin.call(1, "admin.broadcast", R"({"message":"halt at 18:00"})")),
            R"({"clients":3})");
  EXPECT_EQ(next(native), R"({"type":"system","data":{"message":"halt at 18:00"}})");
  EXPECT_EQ(next(room), R"(42["system",{"message":"halt at 18:00"}])");
}

TEST(admin_namespace, admin_command_kicks_by_user_or_id_and_restarts_topics) {
  node_process node{admin_node()};
  ws_client bob{node.port(), "/v1", http_header{"Authorization", "Bearer " + token_for("bob")}};
  ws_client anon{node.port(), "/v1"};
  EXPECT_NE(subscribe(anon, "price:BTC").find(R"("type":"ack")"), std::string::npos);
  admin_client admin{node.port()};

  EXPECT_EQ(result_of(admin.call(1, "admin.command", R"({"command":"kick","args":{"user":"bob"}})")),
            R"({"kicked":1})");
  bob.read(5000ms);
  EXPECT_TRUE(bob.closed());
  EXPECT_EQ(bob.close_code(), 1008);
  EXPECT_EQ(bob.close_reason(), "kicked by operator");
  ASSERT_TRUE(eventually([&] { return node_stat(node.port(), "conn", "open") == 2; }));
  EXPECT_EQ(admin.call(2, "admin.command", R"({"command":"kick","user":"bob"})"),
            R"(43/admin,2[{"success":false,"error":"no connection of user 'bob'","code":"not_found"}])");

  EXPECT_EQ(result_of(admin.call(3, "admin.command", R"({"command":"restart-topic","args":"price:BTC"})")),
            "{}");
  auto reset = anon.read_until([](const ws_message& m) { return m.data.find(R"("type":"reset")") != std::string::npos; });
  ASSERT_TRUE(reset);
  EXPECT_EQ(json_field(reset->data, "topic"), R"("price:BTC")");

  auto listing = result_of(admin.call(4, "admin.command", R"({"command":"connections"})"));
  // Kick the native client by the id the listing gives it.
  auto conns = json_field(listing, "connections");
  std::string anon_id;
  const std::regex native_conn{R"(\{"id":(\d+),[^}]*"dialect":"native")"};
  for (std::sregex_iterator i{conns.begin(), conns.end(), native_conn}, end;
       i != end; ++i)
    anon_id = (*i)[1];
  ASSERT_FALSE(anon_id.empty()) << conns;
  EXPECT_EQ(result_of(admin.call(5, "admin.command", R"({"command":"kick","args":")" + anon_id + R"("})")),
            "{}");
  anon.read_until([](const ws_message&) { return false; }, 3000ms);
  EXPECT_TRUE(anon.closed());
  EXPECT_EQ(anon.close_reason(), "kicked by operator");
}

TEST(admin_namespace, a_feed_going_down_and_back_is_an_admin_alert) {
  redis_process redis;
  node_process node{admin_node({"--redis.url=" + redis.url(), "--redis.reconnect-min=50ms",
                                "--redis.reconnect-max=300ms", "--admin.stats-interval=60s"})};
  admin_client admin{node.port()};
  redis.kill();
  auto down = next_starting(admin.ws, R"(42/admin,["admin.alert",)");
  ASSERT_NE(down, "<nothing>");
  auto alert = down.substr(down.find(',', down.find("admin.alert")) + 1);
  alert.pop_back();
  EXPECT_EQ(json_field(alert, "level"), R"("critical")") << down;
  EXPECT_EQ(json_field(alert, "kind"), R"("feed_down")") << down;
  EXPECT_EQ(json_string(alert, "message").rfind("feed redis is down", 0), 0u) << down;
  EXPECT_NE(json_field(alert, "ts"), "<missing>");
  redis.start();
  auto up = next_starting(admin.ws, R"(42/admin,["admin.alert",)");
  EXPECT_NE(up.find(R"("kind":"feed_up")"), std::string::npos) << up;
  EXPECT_EQ(node_stat(node.port(), "admin", "alerts"), 2);
}

TEST(admin_namespace, maintenance_refuses_new_clients_drains_ready_and_keeps_open_ones) {
  node_process node{admin_node()};
  ws_client trader{node.port(), "/v1"};
  ASSERT_NE(subscribe(trader, "price:BTC").find(R"("type":"ack")"), std::string::npos);
  admin_client admin{node.port()};

  auto on = result_of(admin.call(1, "admin.command",
                                 R"({"command":"maintenance","args":{"mode":"on","message":"upgrade to 0.2","retry_after":42}})"));
  EXPECT_NE(on.find(R"("maintenance":{"on":true,"message":"upgrade to 0.2","retry_after":42,)"),
            std::string::npos) << on;
  EXPECT_EQ(next(trader),
            R"({"type":"system","data":{"event":"maintenance","state":"on","message":"upgrade to 0.2","retry_after":42}})");

  std::string retry_after, body;
  EXPECT_EQ(upgrade_status(node.port(), &retry_after, &body), 503);
  EXPECT_EQ(retry_after, "42");
  EXPECT_EQ(body, R"({"error":"maintenance","message":"upgrade to 0.2","retry_after":42})");
  auto ready = http_request(node.port(), "GET", "/ready");
  EXPECT_EQ(ready.status, 503);
  EXPECT_EQ(ready.body, R"({"ready":false,"reason":"maintenance","message":"upgrade to 0.2"})");
  EXPECT_EQ(http_request(node.port(), "GET", "/lb/status").status, 503);
  auto health = http_request(node.port(), "GET", "/health"); // liveness is unchanged
  EXPECT_EQ(health.status, 200);
  EXPECT_NE(health.body.find(R"("maintenance":1)"), std::string::npos) << health.body;
  EXPECT_EQ(node_stat(node.port(), "protection", "refused_maintenance"), 1);

  // Open connections stay and keep receiving.
  ASSERT_EQ(publish(node.port(), "price:BTC", R"({"p":1})"), 200);
  EXPECT_EQ(json_field(next(trader), "data"), R"({"p":1})");

  EXPECT_EQ(result_of(admin.call(2, "admin.command", R"({"command":"maintenance","args":"off"})")),
            R"({"maintenance":{"on":false},"clients":2})");
  EXPECT_EQ(next(trader), R"({"type":"system","data":{"event":"maintenance","state":"off"}})");
  EXPECT_EQ(upgrade_status(node.port()), 101);
  EXPECT_EQ(http_request(node.port(), "GET", "/ready").status, 200);
  EXPECT_EQ(node_stat(node.port(), "admin", "maintenance"), 0);
}

TEST(admin_namespace, tickgatectl_and_the_admin_http_route_switch_maintenance) {
  node_process node{{"--admin.secret=s3cret"}};
  auto on = ctl(node.admin_port(), "maintenance on --message 'db migration' --retry-after 7");
  EXPECT_EQ(on.code, 0) << on.out;
  EXPECT_NE(on.out.find("maintenance on"), std::string::npos) << on.out;
  auto info = ctl(node.admin_port(), "info");
  EXPECT_NE(info.out.find("maintenance   on since"), std::string::npos) << info.out;
  EXPECT_NE(info.out.find("retry-after 7s: db migration"), std::string::npos) << info.out;
  std::string retry_after;
  EXPECT_EQ(upgrade_status(node.port(), &retry_after), 503);
  EXPECT_EQ(retry_after, "7");
  EXPECT_NE(ctl(node.admin_port(), "maintenance sideways").code, 0); // neither on nor off

  auto off = http_request_with_header(node.port(), "POST", "/admin/maintenance?state=off",
                                      "X-Admin-Secret", "s3cret");
  EXPECT_EQ(off.status, 200) << off.body;
  EXPECT_EQ(upgrade_status(node.port()), 101);
  auto bad = http_request_with_header(node.port(), "POST", "/admin/maintenance?state=on&retry_after=soon",
                                      "X-Admin-Secret", "s3cret");
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_EQ(upgrade_status(node.port()), 101);
  EXPECT_NE(ctl(node.admin_port(), "info").out.find("maintenance   off"), std::string::npos);
}

TEST(admin_namespace, the_unmodified_socket_io_client_uses_admin_events_and_maintenance) {
  node_process node{admin_node()};
  auto r = run_command("node " + std::string{TICKGATE_SOURCE_DIR} + "/tests/socketio/admin_test.js "
                       + std::to_string(node.port()) + " " + token_for("root", "admin"));
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("socketio-admin: all checks passed"), std::string::npos) << r.out;
}
