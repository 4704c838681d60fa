// tickgatectl against the real binary: every command, --json parsed, the
// error exits, and the same data under /admin/ over HTTP.

#include <cstdio>
#include <iterator>
#include <set>
#include <sstream>
#include <thread>
#include <sys/wait.h>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "actors/history.hpp"
#include "support/json_fields.hpp"
#include "support/node_process.hpp"
#include "support/ws_client.hpp"

using namespace std::chrono_literals;
using namespace tickgate::test;

namespace {

command_result ctl(uint16_t admin_port, const std::string& args,
                   const std::string& secret = "s3cret") {
  std::string cmd = tickgate_binary();
  cmd += "ctl --node 127.0.0.1:";
  cmd += std::to_string(admin_port);
  if (!secret.empty()) {
    cmd += " --secret ";
    cmd += secret;
  }
  cmd += " ";
  cmd += args;
  return run_command(cmd);
}

struct ctl_fixture : ::testing::Test {
  node_process node{{"--admin.secret=s3cret"}};
  uint16_t admin() const { return node.admin_port(); }
};

} // namespace

TEST_F(ctl_fixture, info_actors_topics_connections_and_show) {
  ws_client c{node.port()};
  c.send_text(R"({"op":"subscribe","id":1,"topics":["x","y"]})");
  ASSERT_TRUE(c.read());
  http_request(node.port(), "POST", "/api/publish", R"({"topic":"x","data":1})");
  ASSERT_TRUE(c.read());

  auto info = ctl(admin(), "info");
  EXPECT_EQ(info.code, 0) << info.out;
  EXPECT_NE(info.out.find("connections   1"), std::string::npos) << info.out;
  auto info_json = ctl(admin(), "--json info");
  ASSERT_EQ(info_json.code, 0);
  simdjson::dom::parser parser;
  auto doc = parser.parse(info_json.out);
  EXPECT_EQ(doc["ok"].get_bool().value(), true);
  std::string_view id = doc["node"]["id"].get_string().value();
  EXPECT_NE(http_request(node.port(), "GET", "/health").body.find(std::string{id}),
            std::string::npos);
  EXPECT_EQ(doc["counts"]["connection"].get_int64().value(), 1);
  EXPECT_EQ(doc["counts"]["topic"].get_int64().value(), 2);
  EXPECT_EQ(doc["counts"]["inspector"].get_int64().value(), 1);

  // Counts per kind follow actors that come and go.
  {
    ws_client passing{node.port()};
    passing.send_text(R"({"op":"ping","id":1})");
    ASSERT_TRUE(passing.read());
    auto both = parser.parse(ctl(admin(), "--json info").out);
    EXPECT_EQ(both["counts"]["connection"].get_int64().value(), 2);
  }
  int64_t connections = -1;
  for (int i = 0; i < 100 && connections != 1; ++i) {
    std::this_thread::sleep_for(50ms);
    connections = parser.parse(ctl(admin(), "--json info").out)["counts"]["connection"]
                    .get_int64()
                    .value();
  }
  EXPECT_EQ(connections, 1);

  auto actors = ctl(admin(), "--json actors");
  ASSERT_EQ(actors.code, 0) << actors.out;
  std::set<std::string> kinds;
  for (auto a : parser.parse(actors.out)["actors"].get_array())
    kinds.insert(std::string{a["kind"].get_string().value()});
  // "node": the node actor, listed with or without a cluster (it answers `nodes`).
  EXPECT_EQ(kinds, (std::set<std::string>{"bridge", "connection", "inspector", "node", "router",
                                          "topic"}));
  auto only_topics = ctl(admin(), "--json actors --kind topic --sort msgs --limit 1");
  ASSERT_EQ(only_topics.code, 0);
  auto list = parser.parse(only_topics.out)["actors"].get_array();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list.at(0)["name"].get_string().value(), "x"); // the one with traffic
  auto table = ctl(admin(), "actors --sort mailbox");
  EXPECT_NE(table.out.find("MAILBOX"), std::string::npos);

  auto topics = ctl(admin(), "--json topics");
  ASSERT_EQ(topics.code, 0);
  for (auto t : parser.parse(topics.out)["topics"].get_array()) {
    EXPECT_EQ(t["subscribers"].get_int64().value(), 1);
    if (t["name"].get_string().value() == "x") {
      EXPECT_EQ(t["seq"].get_int64().value(), 1);
    }
  }
  EXPECT_NE(ctl(admin(), "topics").out.find("EPOCH"), std::string::npos);

  auto conns = ctl(admin(), "connections");
  ASSERT_EQ(conns.code, 0);
  EXPECT_NE(conns.out.find("dialect=native"), std::string::npos) << conns.out;
  EXPECT_NE(conns.out.find("subs=2"), std::string::npos) << conns.out;
  auto conn_id = conns.out.substr(3, conns.out.find(' ') - 3);

  auto show_topic = ctl(admin(), "--json show x");
  ASSERT_EQ(show_topic.code, 0) << show_topic.out;
  EXPECT_EQ(parser.parse(show_topic.out)["actor"]["kind"].get_string().value(), "topic");
  auto show_conn = ctl(admin(), "show " + conn_id);
  ASSERT_EQ(show_conn.code, 0) << show_conn.out;
  EXPECT_NE(show_conn.out.find("connection"), std::string::npos);

  auto top = ctl(admin(), "top --iterations 1");
  EXPECT_EQ(top.code, 0);
  EXPECT_NE(top.out.find("Largest mailboxes"), std::string::npos);
  EXPECT_NE(top.out.find("Busiest topics"), std::string::npos);
}

TEST_F(ctl_fixture, publish_broadcast_restart_and_kick_act_on_clients) {
  ws_client c{node.port()};
  c.send_text(R"({"op":"subscribe","id":1,"topics":["x"]})");
  ASSERT_TRUE(c.read());
  ws_client victim{node.port()};
  victim.send_text(R"({"op":"ping","id":1})");
  ASSERT_TRUE(victim.read());

  EXPECT_EQ(ctl(admin(), R"(publish x '{"a":1}')").code, 0);
  auto ev = c.read();
  ASSERT_TRUE(ev);
  EXPECT_EQ(json_string(ev->data, "data"), R"({"a":1})");

  auto b = ctl(admin(), R"(broadcast '{"msg":"maintenance at 02:00"}')");
  EXPECT_EQ(b.code, 0);
  EXPECT_NE(b.out.find("OK (2 clients)"), std::string::npos) << b.out;
  auto sys = c.read();
  ASSERT_TRUE(sys);
  EXPECT_EQ(sys->data, R"({"type":"system","data":{"msg":"maintenance at 02:00"}})");
  ASSERT_TRUE(victim.read());

  EXPECT_EQ(ctl(admin(), "restart x").code, 0);
  auto reset = c.read();
  ASSERT_TRUE(reset);
  EXPECT_EQ(json_string(reset->data, "type"), "reset");
  EXPECT_NE(json_string(reset->data, "epoch"), json_string(ev->data, "epoch"));

  auto conns = ctl(admin(), "--json connections");
  simdjson::dom::parser parser;
  std::string victim_id;
  for (auto conn : parser.parse(conns.out)["connections"].get_array())
    if (conn["subs"].get_int64().value() == 0)
      victim_id = std::to_string(conn["id"].get_uint64().value());
  ASSERT_FALSE(victim_id.empty());
  EXPECT_EQ(ctl(admin(), "kick " + victim_id).code, 0);
  EXPECT_FALSE(victim.read(3000ms));
  EXPECT_TRUE(victim.closed());
  EXPECT_EQ(victim.close_code(), 1008);
  EXPECT_EQ(victim.close_reason(), "kicked by operator");
}

TEST_F(ctl_fixture, errors_exit_non_zero_with_a_clear_message) {
  auto denied = ctl(admin(), "info", "wrong");
  EXPECT_EQ(denied.code, 3);
  EXPECT_NE(denied.out.find("access denied"), std::string::npos) << denied.out;
  EXPECT_EQ(ctl(admin(), "info", "").code, 3);
  auto unreachable = ctl(free_port_for_test(), "info");
  EXPECT_EQ(unreachable.code, 2);
  EXPECT_NE(unreachable.out.find("cannot reach node"), std::string::npos);
  auto unknown = ctl(admin(), "restart nosuchtopic");
  EXPECT_EQ(unknown.code, 1);
  EXPECT_NE(unknown.out.find("no live topic"), std::string::npos);
  EXPECT_EQ(ctl(admin(), "show nosuch").code, 1);
  EXPECT_EQ(ctl(admin(), "kick 999999").code, 1);
  EXPECT_EQ(ctl(admin(), "publish x notjson").code, 1);
}

TEST_F(ctl_fixture, the_same_data_is_served_under_admin_over_http) {
  EXPECT_EQ(http_request(node.port(), "GET", "/admin/info").status, 403);
  auto ok = http_request_with_header(node.port(), "GET", "/admin/info", "X-Admin-Secret", "s3cret");
  EXPECT_EQ(ok.status, 200);
  EXPECT_NE(ok.body.find(R"("ok":true)"), std::string::npos);
  auto actors = http_request_with_header(node.port(), "GET", "/admin/actors?kind=router",
                                         "X-Admin-Secret", "s3cret");
  EXPECT_EQ(actors.status, 200);
  EXPECT_NE(actors.body.find(R"("kind":"router")"), std::string::npos);
  EXPECT_EQ(http_request_with_header(node.port(), "POST", "/admin/restart?topic=zz",
                                     "X-Admin-Secret", "s3cret").status,
            404);
  EXPECT_EQ(http_request(node.port(), "GET", "/admin/nope").status, 404);
}

TEST(admin_over_http, is_refused_when_the_node_has_no_secret) {
  node_process open_node;
  auto r = http_request(open_node.port(), "POST", "/admin/broadcast", R"({"x":1})");
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(r.body.find("admin.secret"), std::string::npos) << r.body;
  // tickgatectl on the loopback admin port still works without one.
  EXPECT_EQ(ctl(open_node.admin_port(), "info", "").code, 0);
}

TEST_F(ctl_fixture, global_options_are_accepted_after_the_subcommand) {
  ws_client c{node.port()};
  c.send_text(R"({"op":"subscribe","id":1,"topics":["x"]})");
  ASSERT_TRUE(c.read());
  auto node_opt = " --node 127.0.0.1:" + std::to_string(admin());
  simdjson::dom::parser parser;

  auto topics = run_command(tickgate_binary() + "ctl topics --json" + node_opt + " --secret s3cret");
  ASSERT_EQ(topics.code, 0) << topics.out;
  auto doc = parser.parse(topics.out);
  ASSERT_FALSE(doc.error()) << topics.out;
  EXPECT_EQ(doc["topics"].get_array().size(), 1u);
  EXPECT_EQ(std::string{doc["topics"].at(0)["name"].get_string().value()}, "x");

  // Global and subcommand options mixed, in any order.
  auto actors = run_command(tickgate_binary() + "ctl actors --kind topic" + node_opt
                            + " --json --secret s3cret --limit 1");
  ASSERT_EQ(actors.code, 0) << actors.out;
  EXPECT_EQ(parser.parse(actors.out)["actors"].get_array().size(), 1u);
  auto show = run_command(tickgate_binary() + "ctl --secret s3cret show x" + node_opt + " --json");
  ASSERT_EQ(show.code, 0) << show.out;
  EXPECT_EQ(std::string{parser.parse(show.out)["actor"]["kind"].get_string().value()}, "topic");

  // A secret given after the subcommand is the one sent.
  auto denied = run_command(tickgate_binary() + "ctl info" + node_opt + " --secret wrong");
  EXPECT_EQ(denied.code, 3) << denied.out;
  // An option neither the subcommand nor the app knows is still refused.
  auto unknown = run_command(tickgate_binary() + "ctl topics --nosuch" + node_opt);
  EXPECT_NE(unknown.code, 0);
  EXPECT_NE(unknown.out.find("--nosuch"), std::string::npos) << unknown.out;
}

TEST_F(ctl_fixture, a_secret_that_differs_anywhere_or_in_length_is_denied) {
  for (auto wrong : {"s3creX", "X3cret", "s3cre", "s3cret!"}) {
    auto r = ctl(admin(), "info", wrong);
    EXPECT_EQ(r.code, 3) << wrong << ": " << r.out;
  }
  EXPECT_EQ(ctl(admin(), "info", "s3cret").code, 0);
}

TEST_F(ctl_fixture, stats_shows_every_metric_group_as_in_api_stats) {
  ws_client c{node.port()};
  c.send_text(R"({"op":"subscribe","id":1,"topics":["x"]})");
  ASSERT_TRUE(c.read());
  auto json = ctl(admin(), "stats --json");
  ASSERT_EQ(json.code, 0) << json.out;
  simdjson::dom::parser parser;
  auto doc = parser.parse(json.out);
  ASSERT_FALSE(doc.error()) << json.out;
  EXPECT_EQ(doc["conn"]["open"].get_int64().value(), 1);
  EXPECT_EQ(doc["topic"]["subscriptions"].get_int64().value(), 1);
  for (auto group : {"conn", "topic", "bridge", "http", "protection", "auth"})
    EXPECT_FALSE(doc[group].error()) << group;
  auto table = ctl(admin(), "stats");
  ASSERT_EQ(table.code, 0) << table.out;
  EXPECT_NE(table.out.find("conn.open"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("conn.errors.bad_request"), std::string::npos) << table.out;
  auto over_http = http_request_with_header(node.port(), "GET", "/admin/stats", "X-Admin-Secret",
                                            "s3cret");
  EXPECT_EQ(over_http.status, 200);
  EXPECT_NE(over_http.body.find(R"("subscriptions":1)"), std::string::npos) << over_http.body;
}

TEST_F(ctl_fixture, topics_show_what_each_topic_retains) {
  ws_client c{node.port()};
  c.send_text(R"({"op":"subscribe","id":1,"topics":["kept"]})");
  ASSERT_TRUE(c.read());
  // Longer than a string's inline buffer, so each event is charged its bytes.
  const std::string payload = R"({"price":"189.20","qty":"5","side":"buy"})";
  for (int i = 0; i < 3; ++i) {
    http_request(node.port(), "POST", "/api/publish", R"({"topic":"kept","data":)" + payload + "}");
    ASSERT_TRUE(c.read()); // delivered, so retained
  }
  // What a retained event costs: the payload's heap block (with its
  // terminator) and the bookkeeping; the topic name fits inline.
  auto expected_bytes = 3 * (payload.size() + 1 + tickgate::topic_history::overhead());

  auto json = ctl(admin(), "--json topics");
  ASSERT_EQ(json.code, 0) << json.out;
  simdjson::dom::parser parser;
  bool found = false;
  for (auto t : parser.parse(json.out)["topics"].get_array()) {
    if (t["name"].get_string().value() != "kept")
      continue;
    found = true;
    EXPECT_EQ(t["retained"].get_uint64().value(), 3u);
    EXPECT_EQ(t["retained_bytes"].get_uint64().value(), expected_bytes);
    EXPECT_TRUE(t["snapshot_age_ms"].is_null()); // nothing was marked a snapshot
  }
  EXPECT_TRUE(found) << json.out;

  auto table = ctl(admin(), "topics");
  ASSERT_EQ(table.code, 0) << table.out;
  EXPECT_NE(table.out.find("RETAINED"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("RET-BYTES"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("SNAP-AGE"), std::string::npos) << table.out;
  auto at = table.out.find("\nkept ");
  ASSERT_NE(at, std::string::npos) << table.out;
  std::istringstream row{table.out.substr(at + 1, table.out.find('\n', at + 1) - at - 1)};
  std::vector<std::string> cells{std::istream_iterator<std::string>{row}, {}};
  // TOPIC SUBS SEQ EPOCH MSGS/s LAST-PUB RESTARTS RETAINED RET-BYTES SNAP-AGE
  ASSERT_EQ(cells.size(), 10u) << table.out;
  EXPECT_EQ(cells[2], "3");
  EXPECT_EQ(cells[7], "3");
  EXPECT_EQ(cells[8], std::to_string(expected_bytes));
  EXPECT_EQ(cells[9], "-");
}
