// The admin-only system topic $sys:stats, the credentials the node accepts
// for it and for /admin/ over HTTP (the admin secret, an admin JWT), the
// figures added for the dashboard (latency percentiles, Socket.IO clients by
// namespace) and the files the node serves from memory (/client/, /dashboard).

#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "support/json_fields.hpp"
#include "support/jwt_tokens.hpp"
#include "support/node_process.hpp"
#include "support/ws_client.hpp"

using namespace std::chrono_literals;
using namespace tickgate::test;

namespace {

const std::string admin_secret = "dashboard-test-secret";
const std::string jwt_secret = "dashboard-jwt-key";

std::vector<std::string> admin_node() {
  return {"--admin.secret=" + admin_secret, "--auth.jwt-secret=" + jwt_secret};
}

std::string token_for(const std::string& user, const std::string& role = "") {
  token_spec t;
  t.key = jwt_secret;
  t.sub = user;
  t.role = role;
  t.exp = now_s() + 300;
  return t.sign();
}

std::string subscribe(const std::string& topic, int id = 1) {
  return R"({"op":"subscribe","id":)" + std::to_string(id) + R"(,"topics":[")" + topic + R"("]})";
}

bool is_type(const ws_message& m, const char* type) {
  return json_string(m.data, "type") == type;
}

// The next $sys:stats event's data, parsed into `doc` (false on timeout).
bool next_stats(ws_client& c, simdjson::dom::parser& parser, simdjson::dom::element& data,
                uint64_t* seq = nullptr) {
  auto m = c.read_until(
    [](const ws_message& m) { return is_type(m, "event") && json_string(m.data, "topic") == "$sys:stats"; },
    5000ms);
  if (!m)
    return false;
  simdjson::dom::element doc;
  if (parser.parse(m->data).get(doc) || doc["data"].get(data))
    return false;
  if (seq)
    *seq = doc["seq"].get_uint64().value();
  return true;
}

std::string stats_body(uint16_t port) {
  return http_request(port, "GET", "/api/stats").body;
}

int64_t nested_stat(uint16_t port, const char* group, const char* key, const char* label) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  auto body = stats_body(port);
  if (parser.parse(body).get(doc))
    return -1;
  int64_t v = -1;
  if (doc[group][key][label].get_int64().get(v))
    return -1;
  return v;
}

std::string file_text(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

} // namespace

TEST(system_topic, the_admin_secret_as_token_follows_the_node_figures_every_second) {
  node_process node{admin_node()};
  ws_client watcher{node.port(), "/v1?token=" + admin_secret};
  ws_client trader{node.port()};
  trader.send_text(subscribe("trade@DASH"));
  ASSERT_TRUE(trader.read_until([](auto& m) { return is_type(m, "ack"); }));
  ASSERT_EQ(http_request(node.port(), "POST", "/api/publish",
                         R"({"topic":"trade@DASH","data":{"p":1}})").status, 200);

  watcher.send_text(subscribe("$sys:stats"));
  auto ack = watcher.read_until([](auto& m) { return is_type(m, "ack") || is_type(m, "error"); });
  ASSERT_TRUE(ack);
  ASSERT_TRUE(is_type(*ack, "ack")) << ack->data;

  simdjson::dom::parser p1, p2;
  simdjson::dom::element first, second;
  uint64_t seq1 = 0, seq2 = 0;
  ASSERT_TRUE(next_stats(watcher, p1, first, &seq1));
  ASSERT_TRUE(next_stats(watcher, p2, second, &seq2));
  EXPECT_EQ(seq2, seq1 + 1); // one event per interval, numbered like any topic's
  std::string node_id{first["node"].get_string().value()};
  EXPECT_EQ(node_id, json_string(http_request(node.port(), "GET", "/health").body, "node"));
  EXPECT_EQ(first["stats"]["conn"]["open"].get_int64().value(), 2);
  EXPECT_EQ(first["stats"]["conn"]["by_dialect"]["native"].get_int64().value(), 2);
  EXPECT_GT(second["ts_ms"].get_int64().value(), first["ts_ms"].get_int64().value());

  // The busiest topics: the trader's, with its one subscriber and its seq;
  // the system topic itself is not listed.
  bool listed = false;
  for (auto t : second["topics"].get_array()) {
    std::string name{t["name"].get_string().value()};
    EXPECT_NE(name, "$sys:stats");
    if (name == "trade@DASH") {
      listed = true;
      EXPECT_EQ(t["subscribers"].get_uint64().value(), 1u);
      EXPECT_EQ(t["seq"].get_uint64().value(), 1u);
      EXPECT_EQ(t["retained"].get_uint64().value(), 1u);
    }
  }
  EXPECT_TRUE(listed);
  bool bus = false;
  for (auto f : second["feeds"].get_array())
    if (f["name"].get_string().value() == "bus") {
      bus = true;
      EXPECT_EQ(f["link"].get_string().value(), "up");
    }
  EXPECT_TRUE(bus);
  EXPECT_FALSE(second["maintenance"]["on"].get_bool().value());
}

TEST(system_topic, an_admin_jwt_may_follow_it_other_clients_are_refused) {
  node_process node{admin_node()};
  {
    ws_client admin{node.port(), "/v1?token=" + token_for("ops", "admin")};
    admin.send_text(subscribe("$sys:stats"));
    simdjson::dom::parser p;
    simdjson::dom::element data;
    EXPECT_TRUE(next_stats(admin, p, data));
  }
  ws_client anonymous{node.port()};
  anonymous.send_text(subscribe("$sys:stats", 7));
  auto refused = anonymous.read();
  ASSERT_TRUE(refused);
  EXPECT_EQ(json_string(refused->data, "code"), "unauthorized") << refused->data;
  EXPECT_NE(refused->data.find("system topic"), std::string::npos);

  ws_client user{node.port(), "/v1?token=" + token_for("alice")};
  user.send_text(subscribe("$sys:stats", 8));
  refused = user.read();
  ASSERT_TRUE(refused);
  EXPECT_EQ(json_string(refused->data, "code"), "forbidden") << refused->data;

  ws_client wrong{node.port(), "/v1?token=not-the-secret"};
  EXPECT_FALSE(wrong.read(3000ms));
  EXPECT_EQ(wrong.close_code(), 4001);
  EXPECT_GE(node_stat(node.port(), "auth", "denied"), 2);
}

TEST(system_topic, nothing_outside_the_node_can_publish_to_it) {
  node_process node{admin_node()};
  auto publish = http_request(node.port(), "POST", "/api/publish",
                              R"({"topic":"$sys:stats","data":{"forged":true}})");
  EXPECT_EQ(publish.status, 400) << publish.body;
  auto admin_publish = http_request_with_header(node.port(), "POST", "/admin/publish?topic=%24sys%3Astats",
                                                "X-Admin-Secret", admin_secret, R"({"forged":true})");
  EXPECT_EQ(admin_publish.status, 400) << admin_publish.body;
  // Its retained event is for admins too.
  EXPECT_EQ(http_request(node.port(), "GET", "/api/snapshot?topics=$sys:stats").status, 401);
}

TEST(system_topic, admin_http_takes_the_secret_or_an_admin_jwt_as_bearer) {
  node_process node{admin_node()};
  auto status = [&](const std::string& header, const std::string& value) {
    return http_request_with_header(node.port(), "GET", "/admin/info", header, value).status;
  };
  EXPECT_EQ(status("X-Admin-Secret", admin_secret), 200);
  EXPECT_EQ(status("Authorization", "Bearer " + admin_secret), 200);
  EXPECT_EQ(status("Authorization", "Bearer " + token_for("ops", "admin")), 200);
  EXPECT_EQ(status("Authorization", "Bearer " + token_for("alice")), 403);
  EXPECT_EQ(status("Authorization", "Bearer wrong"), 403);
  EXPECT_EQ(status("X-Admin-Secret", "wrong"), 403);
  auto none = http_request(node.port(), "POST", "/admin/maintenance?state=on");
  EXPECT_EQ(none.status, 403);
  EXPECT_EQ(json_string(none.body, "code"), "denied");
  EXPECT_EQ(node_stat(node.port(), "admin", "maintenance"), 0);
}

TEST(system_topic, an_admin_jwt_opens_admin_http_on_a_node_without_a_secret) {
  node_process node{{"--auth.jwt-secret=" + jwt_secret}};
  ws_client victim{node.port()};
  victim.send_text(subscribe("trade@KICK"));
  ASSERT_TRUE(victim.read_until([](auto& m) { return is_type(m, "ack"); }));
  auto list = http_request_with_header(node.port(), "GET", "/admin/connections", "Authorization",
                                       "Bearer " + token_for("ops", "admin"));
  ASSERT_EQ(list.status, 200) << list.body;
  simdjson::dom::parser parser;
  auto doc = parser.parse(list.body);
  auto conns = doc["connections"].get_array();
  ASSERT_EQ(conns.size(), 1u);
  auto id = std::to_string(conns.at(0)["id"].get_uint64().value());
  EXPECT_EQ(http_request_with_header(node.port(), "POST", "/admin/kick?id=" + id, "Authorization",
                                     "Bearer " + token_for("bob")).status,
            403);
  EXPECT_FALSE(victim.closed());
  auto kick = http_request_with_header(node.port(), "POST", "/admin/kick?id=" + id, "Authorization",
                                       "Bearer " + token_for("ops", "admin"));
  EXPECT_EQ(kick.status, 200) << kick.body;
  victim.read_until([](auto&) { return false; }, 3000ms);
  EXPECT_TRUE(victim.closed());
}

TEST(dashboard_figures, latency_percentiles_and_socket_io_namespaces_are_in_api_stats) {
  node_process node;
  ws_client sio{node.port(), "/socket.io/?EIO=4&transport=websocket"};
  ASSERT_TRUE(sio.read()); // Engine.IO open
  sio.send_text("40/prices,");
  ASSERT_TRUE(sio.read_until([](auto& m) { return m.data.starts_with("40/prices,"); }));
  EXPECT_TRUE(eventually([&] { return nested_stat(node.port(), "conn", "by_namespace", "/prices") == 1; }));
  EXPECT_EQ(nested_stat(node.port(), "conn", "by_namespace", "/"), 0);
  sio.send_text("41/prices,");
  EXPECT_TRUE(eventually([&] { return nested_stat(node.port(), "conn", "by_namespace", "/prices") == 0; }));
  sio.send_text("40/market,");
  ASSERT_TRUE(sio.read_until([](auto& m) { return m.data.starts_with("40/market,"); }));
  EXPECT_TRUE(eventually([&] { return nested_stat(node.port(), "conn", "by_namespace", "/market") == 1; }));
  sio.close();
  EXPECT_TRUE(eventually([&] { return nested_stat(node.port(), "conn", "by_namespace", "/market") == 0; }));

  simdjson::dom::parser parser;
  auto empty = parser.parse(stats_body(node.port()));
  EXPECT_TRUE(empty["latency"]["p50_us"].is_null());
  ws_client reader{node.port()};
  reader.send_text(subscribe("trade@LAT"));
  ASSERT_TRUE(reader.read_until([](auto& m) { return is_type(m, "ack"); }));
  for (int i = 0; i < 5; ++i)
    ASSERT_EQ(http_request(node.port(), "POST", "/api/publish",
                           R"({"topic":"trade@LAT","data":{"i":)" + std::to_string(i) + "}}").status,
              200);
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(reader.read_until([](auto& m) { return is_type(m, "event"); }));
  simdjson::dom::element latency;
  ASSERT_TRUE(eventually([&] {
    auto body = stats_body(node.port());
    simdjson::dom::parser p;
    simdjson::dom::element doc;
    return !p.parse(body).get(doc) && doc["latency"]["count"].get_uint64().value() >= 5;
  }));
  auto body = stats_body(node.port());
  auto doc = parser.parse(body);
  latency = doc["latency"];
  uint64_t in_buckets = 0;
  for (auto c : latency["counts"].get_array())
    in_buckets += c.get_uint64().value();
  EXPECT_EQ(in_buckets, latency["count"].get_uint64().value());
  EXPECT_EQ(latency["counts"].get_array().size(), latency["bounds_us"].get_array().size() + 1);
  auto p50 = latency["p50_us"].get_double().value();
  auto p99 = latency["p99_us"].get_double().value();
  EXPECT_GT(p50, 0);
  EXPECT_LE(p50, p99);
}

TEST(served_files, the_javascript_client_is_served_as_modules_with_etags) {
  node_process node;
  auto index = http_request(node.port(), "GET", "/client/index.js");
  EXPECT_EQ(index.status, 200);
  EXPECT_EQ(index.body, file_text(TICKGATE_SOURCE_DIR "/clients/js/index.js"));
  auto client = http_request(node.port(), "GET", "/client/src/client.js");
  EXPECT_EQ(client.status, 200);
  EXPECT_EQ(client.body, file_text(TICKGATE_SOURCE_DIR "/clients/js/src/client.js"));
  EXPECT_EQ(http_request(node.port(), "GET", "/client/src/nope.js").status, 404);
  EXPECT_EQ(http_request(node.port(), "POST", "/client/index.js").status, 405);
}
