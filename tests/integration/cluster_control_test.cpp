// tickgatectl on a cluster of three real nodes: topics, connections and info
// with --cluster list every member's rows under its node id; kick --user and
// broadcast act on every member (or one, with --local); a member killed just
// before a query is reported, and the query still answers in time. A node
// without a cluster answers for itself.

#include <chrono>
#include <csignal>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>
#include <signal.h>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>
#include <gtest/gtest.h>
#include <simdjson.h>

#include "actors/vocabulary.hpp"

#include "support/json_fields.hpp"
#include "support/jwt_tokens.hpp"
#include "support/node_process.hpp"
#include "support/ws_client.hpp"

using namespace std::chrono_literals;
using namespace tickgate::test;

namespace {

const std::string admin_secret = "S";
const std::string jwt_secret = "cluster-control-test-secret";

std::unique_ptr<node_process> start_node(const std::string& id,
                                         std::vector<std::string> extra = {}) {
  std::vector<std::string> args{"--node-id=" + id, "--admin.secret=" + admin_secret,
                                "--auth.jwt-secret=" + jwt_secret};
  args.insert(args.end(), extra.begin(), extra.end());
  return std::make_unique<node_process>(args);
}

std::unique_ptr<node_process> start_member(const std::string& id, const node_process* seed) {
  std::vector<std::string> extra{"--cluster.pick-port"};
  if (seed)
    extra.push_back("--cluster.seeds=[\"127.0.0.1:" + std::to_string(seed->cluster_port())
                    + "\"]");
  return start_node(id, extra);
}

command_result ctl(const node_process& n, const std::string& args) {
  return run_command(tickgate_binary() + "ctl --node 127.0.0.1:" + std::to_string(n.admin_port())
                     + " --secret " + admin_secret + " " + args);
}

int64_t members_up(const node_process& n) {
  auto body = http_request_with_header(n.port(), "GET", "/api/cluster", "X-Admin-Secret",
                                       admin_secret)
                .body;
  simdjson::dom::parser parser;
  int64_t up = 0;
  if (parser.parse(body)["up"].get_int64().get(up))
    return 0;
  return up;
}

std::string token_for(const std::string& user) {
  token_spec t;
  t.key = jwt_secret;
  t.sub = user;
  t.exp = now_s() + 300;
  return t.sign();
}

// A client subscribed to `topic`; authenticated as `user` unless empty.
std::unique_ptr<ws_client> subscribed(const node_process& n, const std::string& topic,
                                      const std::string& user = "") {
  auto c = user.empty()
             ? std::make_unique<ws_client>(n.port())
             : std::make_unique<ws_client>(n.port(), "/v1",
                                           http_header{"Authorization", "Bearer " + token_for(user)});
  c->send_text(R"({"op":"subscribe","id":1,"topics":[")" + topic + R"("]})");
  auto ack = c->read();
  EXPECT_TRUE(ack) << "no subscribe reply on " << topic;
  return c;
}

const std::string system_frame(const std::string& msg) {
  return R"({"type":"system","data":{"msg":")" + msg + R"("}})";
}

// Whether `c`'s next system message is `msg` (events in between skipped).
bool hears(ws_client& c, const std::string& msg) {
  auto m = c.read_until([](const ws_message& m) { return json_string(m.data, "type") == "system"; });
  return m && m->data == system_frame(msg);
}

std::vector<std::string> strings(simdjson::dom::element list, const char* key = nullptr) {
  std::vector<std::string> out;
  for (auto e : list.get_array())
    out.emplace_back(key ? e[key].get_string().value() : e.get_string().value());
  return out;
}

const std::vector<std::string> all_three{"n1", "n2", "n3"};

struct cluster_control : ::testing::Test {
  std::unique_ptr<node_process> n1 = start_member("n1", nullptr);
  std::unique_ptr<node_process> n2 = start_member("n2", n1.get());
  std::unique_ptr<node_process> n3 = start_member("n3", n1.get());

  void SetUp() override {
    for (auto* n : nodes())
      ASSERT_TRUE(eventually([&] { return members_up(*n) == 3; }, 10000ms))
        << "the cluster did not form: " << members_up(*n) << " up";
  }
  std::vector<node_process*> nodes() { return {n1.get(), n2.get(), n3.get()}; }
};

} // namespace

TEST_F(cluster_control, listings_with_cluster_show_every_members_rows_under_its_node_id) {
  // Node nK: one client of user u and K anonymous ones, all on topic own-nK.
  std::vector<std::unique_ptr<ws_client>> clients;
  std::map<std::string, int64_t> expected_clients;
  for (int k = 1; k <= 3; ++k) {
    auto& n = *nodes()[k - 1];
    auto id = "n" + std::to_string(k);
    clients.push_back(subscribed(n, "own-" + id, "u"));
    for (int i = 0; i < k; ++i)
      clients.push_back(subscribed(n, "own-" + id));
    expected_clients[id] = k + 1;
  }
  simdjson::dom::parser parser;

  // topics: each member's own topic under its id, with its own subscribers
  // (a topic's home node may list it too, followed by the other member).
  auto topics = ctl(*n2, "topics --cluster --json");
  ASSERT_EQ(topics.code, 0) << topics.out;
  auto doc = parser.parse(topics.out);
  ASSERT_FALSE(doc.error()) << topics.out;
  EXPECT_EQ(strings(doc["answered"]), (std::vector<std::string>{"n2", "n1", "n3"}))
    << "the asked node first, then the members by name: " << topics.out;
  EXPECT_EQ(doc["unreachable"].get_array().size(), 0u) << topics.out;
  std::set<std::string> nodes_listed;
  std::map<std::string, int64_t> own_subscribers;
  for (auto t : doc["topics"].get_array()) {
    std::string node{t["node"].get_string().value()};
    nodes_listed.insert(node);
    if (t["name"].get_string().value() == "own-" + node)
      own_subscribers[node] = t["subscribers"].get_int64().value();
  }
  EXPECT_EQ(nodes_listed, (std::set<std::string>{"n1", "n2", "n3"})) << topics.out;
  EXPECT_EQ(own_subscribers, expected_clients) << topics.out;
  auto table = ctl(*n2, "topics --cluster");
  ASSERT_EQ(table.code, 0) << table.out;
  EXPECT_EQ(table.out.rfind("NODE ", 0), 0u) << table.out;
  for (auto& id : all_three)
    EXPECT_NE(table.out.find("\n" + id + " "), std::string::npos) << id << ":\n" << table.out;

  // connections: every client once, under the node it is connected to.
  auto conns = ctl(*n1, "connections --cluster --json");
  ASSERT_EQ(conns.code, 0) << conns.out;
  doc = parser.parse(conns.out);
  ASSERT_FALSE(doc.error()) << conns.out;
  std::map<std::string, int64_t> per_node, of_u;
  for (auto c : doc["connections"].get_array()) {
    std::string node{c["node"].get_string().value()};
    ++per_node[node];
    std::string_view user;
    if (!c["user"].get_string().get(user) && user == "u")
      ++of_u[node];
  }
  EXPECT_EQ(per_node, expected_clients) << conns.out;
  EXPECT_EQ(of_u, (std::map<std::string, int64_t>{{"n1", 1}, {"n2", 1}, {"n3", 1}})) << conns.out;
  auto lines = ctl(*n1, "connections --cluster");
  EXPECT_NE(lines.out.find("node=n3 id="), std::string::npos) << lines.out;

  // info: each member's figures and the cluster's totals.
  auto info = ctl(*n3, "info --cluster --json");
  ASSERT_EQ(info.code, 0) << info.out;
  doc = parser.parse(info.out);
  ASSERT_FALSE(doc.error()) << info.out;
  EXPECT_EQ(strings(doc["nodes"], "node"), (std::vector<std::string>{"n3", "n1", "n2"}))
    << info.out;
  for (auto n : doc["nodes"].get_array()) {
    std::string node{n["node"].get_string().value()};
    EXPECT_EQ(n["info"]["node"]["id"].get_string().value(), node);
    EXPECT_EQ(n["info"]["connections"].get_int64().value(), expected_clients[node]) << node;
  }
  EXPECT_EQ(doc["total"]["nodes"].get_int64().value(), 3);
  EXPECT_EQ(doc["total"]["connections"].get_int64().value(), 9);
  auto info_table = ctl(*n3, "info --cluster");
  ASSERT_EQ(info_table.code, 0) << info_table.out;
  EXPECT_NE(info_table.out.find("total (3)"), std::string::npos) << info_table.out;
}

TEST_F(cluster_control, kick_by_user_and_broadcast_act_on_every_member_unless_local) {
  // Node nK: a client of user u (topic t) and one anonymous client.
  std::vector<std::unique_ptr<ws_client>> users, others;
  for (auto* n : nodes()) {
    users.push_back(subscribed(*n, "t", "u"));
    others.push_back(subscribed(*n, "t"));
  }

  auto b = ctl(*n1, R"(broadcast '{"msg":"everyone"}')");
  ASSERT_EQ(b.code, 0) << b.out;
  EXPECT_NE(b.out.find("OK (6 clients: n1 2, n2 2, n3 2)"), std::string::npos) << b.out;
  for (auto* group : {&users, &others})
    for (auto& c : *group)
      EXPECT_TRUE(hears(*c, "everyone"));

  // --local: n1's clients only; the others' next system message is the
  // cluster-wide one sent after it.
  auto local = ctl(*n1, R"(broadcast --local '{"msg":"n1 only"}')");
  EXPECT_EQ(local.code, 0) << local.out;
  EXPECT_NE(local.out.find("OK (2 clients)"), std::string::npos) << local.out;
  EXPECT_EQ(ctl(*n1, R"(broadcast '{"msg":"again"}')").code, 0);
  EXPECT_TRUE(hears(*users[0], "n1 only"));
  EXPECT_TRUE(hears(*others[0], "n1 only"));
  for (size_t k = 0; k < 3; ++k) {
    EXPECT_TRUE(hears(*users[k], "again")) << "n" << k + 1;
    EXPECT_TRUE(hears(*others[k], "again")) << "n" << k + 1;
  }

  // kick --local on n3: its own client of u only.
  auto local_kick = ctl(*n3, "kick --user u --local");
  EXPECT_EQ(local_kick.code, 0) << local_kick.out;
  EXPECT_NE(local_kick.out.find("OK (1 connections kicked)"), std::string::npos) << local_kick.out;
  EXPECT_FALSE(users[2]->read(3000ms));
  EXPECT_EQ(users[2]->close_code(), 1008);

  // kick --user asked on n2: u's clients on n1 and n2; n3 has none left.
  auto kick = ctl(*n2, "--json kick --user u");
  ASSERT_EQ(kick.code, 0) << kick.out;
  simdjson::dom::parser parser;
  auto doc = parser.parse(kick.out);
  ASSERT_FALSE(doc.error()) << kick.out;
  EXPECT_EQ(doc["kicked"].get_int64().value(), 2) << kick.out;
  std::map<std::string, int64_t> kicked;
  for (auto n : doc["nodes"].get_array())
    kicked[std::string{n["node"].get_string().value()}] = n["kicked"].get_int64().value();
  EXPECT_EQ(kicked, (std::map<std::string, int64_t>{{"n1", 1}, {"n2", 1}, {"n3", 0}})) << kick.out;
  for (size_t k = 0; k < 2; ++k) {
    EXPECT_FALSE(users[k]->read(3000ms)) << "n" << k + 1;
    EXPECT_TRUE(users[k]->closed()) << "n" << k + 1;
    EXPECT_EQ(users[k]->close_code(), 1008) << "n" << k + 1;
    EXPECT_EQ(users[k]->close_reason(), "kicked by operator");
  }

  // The other clients stay connected on every node.
  auto after = ctl(*n3, R"(broadcast '{"msg":"still here"}')");
  EXPECT_NE(after.out.find("OK (3 clients: n3 1, n1 1, n2 1)"), std::string::npos) << after.out;
  for (auto& c : others)
    EXPECT_TRUE(hears(*c, "still here"));
  auto nobody = ctl(*n1, "kick --user u");
  EXPECT_EQ(nobody.code, 1) << nobody.out;
  EXPECT_NE(nobody.out.find("no connection of user 'u' on any member"), std::string::npos)
    << nobody.out;
}

TEST_F(cluster_control, a_member_killed_just_before_a_query_is_reported_and_the_query_answers) {
  auto c = subscribed(*n3, "t", "u");
  ASSERT_NE(n3->stop(SIGKILL, 2000ms), -1);
  auto started = std::chrono::steady_clock::now();
  auto topics = ctl(*n1, "--json topics --cluster");
  auto took = std::chrono::steady_clock::now() - started;
  ASSERT_EQ(topics.code, 0) << topics.out;
  // The member bound (3 s), plus tickgatectl's own start and connect.
  EXPECT_LT(took, 7s) << topics.out;
  simdjson::dom::parser parser;
  auto doc = parser.parse(topics.out);
  ASSERT_FALSE(doc.error()) << topics.out;
  EXPECT_EQ(strings(doc["answered"]), (std::vector<std::string>{"n1", "n2"})) << topics.out;
  for (auto t : doc["topics"].get_array())
    EXPECT_NE(t["node"].get_string().value(), "n3") << topics.out;
  // Either its link's loss was seen (down, not asked) or it did not answer;
  // a member already forgotten is not listed at all.
  auto missing = strings(doc["unreachable"], "node");
  EXPECT_TRUE(missing.empty() || missing == std::vector<std::string>{"n3"}) << topics.out;

  auto table = ctl(*n2, "info --cluster");
  ASSERT_EQ(table.code, 0) << table.out;
  EXPECT_NE(table.out.find("total (2)"), std::string::npos) << table.out;
  EXPECT_TRUE(table.out.find("n3: unreachable (") != std::string::npos
              || table.out.find("n3") == std::string::npos)
    << table.out;

  auto b = ctl(*n1, R"(broadcast '{"msg":"two left"}')");
  EXPECT_EQ(b.code, 0) << b.out;
  EXPECT_NE(b.out.find("OK (0 clients: n1 0, n2 0)"), std::string::npos) << b.out;
}

TEST_F(cluster_control, a_member_that_does_not_answer_is_reported_unreachable_within_the_bound) {
  // Stopped, not killed: its link stays open, so only the bound ends the wait.
  ASSERT_EQ(::kill(n2->pid(), SIGSTOP), 0);
  auto started = std::chrono::steady_clock::now();
  auto kick = ctl(*n1, "--json kick --user nobody");
  auto took = std::chrono::steady_clock::now() - started;
  ::kill(n2->pid(), SIGCONT);
  EXPECT_EQ(kick.code, 1) << kick.out;
  EXPECT_NE(kick.out.find("unreachable: n2"), std::string::npos) << kick.out;
  EXPECT_LT(took, 7s);
  // Back: heartbeats bring it up again (it may have been marked down meanwhile).
  for (auto* n : nodes())
    ASSERT_TRUE(eventually([&] { return members_up(*n) == 3; }, 10000ms));

  ASSERT_EQ(::kill(n3->pid(), SIGSTOP), 0);
  auto info = ctl(*n1, "--json info --cluster");
  ::kill(n3->pid(), SIGCONT);
  ASSERT_EQ(info.code, 0) << info.out;
  simdjson::dom::parser parser;
  auto doc = parser.parse(info.out);
  ASSERT_FALSE(doc.error()) << info.out;
  EXPECT_EQ(doc["total"]["nodes"].get_int64().value(), 2) << info.out;
  EXPECT_EQ(strings(doc["unreachable"], "node"), std::vector<std::string>{"n3"}) << info.out;
}

TEST_F(cluster_control, a_process_that_is_not_a_member_cannot_ask_a_node_to_act) {
  auto victim = subscribed(*n1, "t", "u");
  // A process that reaches n1's cluster port but never joined.
  caf::actor_system_config cfg;
  cfg.load<caf::io::middleman>();
  cfg.set("logger.console", caf::atom("none"));
  caf::actor_system sys{cfg};
  auto node = sys.middleman().remote_actor("127.0.0.1", n1->cluster_port());
  ASSERT_TRUE(node) << sys.render(node.error());
  caf::scoped_actor self{sys};
  auto refused = [&](auto atom, std::vector<std::string> args) {
    bool no = false;
    self->request(*node, 5s, atom, std::string{"kick"}, std::move(args))
      .receive([&](const std::string& json) { ADD_FAILURE() << "answered: " << json; },
               [&](caf::error&) { no = true; });
    return no;
  };
  // Anonymous sends arrive without a sender, as the node's own do not:
  // they are not taken for local ones.
  caf::anon_send(*node, tickgate::cluster_atom_v, std::string{"broadcast"},
                 std::vector<std::string>{R"({"msg":"anonymous"})"});
  caf::anon_send(*node, tickgate::cluster_atom_v, std::string{"kick"},
                 std::vector<std::string>{"", "u"});
  caf::anon_send(*node, tickgate::stop_atom_v);
  caf::anon_send(*node, tickgate::tick_atom_v);
  auto ignored_before = node_metric(n1->port(), "tickgate_cluster_messages_ignored_total");
  EXPECT_TRUE(refused(tickgate::control_atom_v, {"", "u"})); // a member's part
  EXPECT_TRUE(refused(tickgate::cluster_atom_v, {"", "u"})); // the local inspector's ask
  EXPECT_GT(node_metric(n1->port(), "tickgate_cluster_messages_ignored_total"), ignored_before);
  // The node actor still runs, and the client is still there and heard
  // nothing before this.
  auto nodes = ctl(*n1, "nodes");
  EXPECT_EQ(nodes.code, 0) << nodes.out;
  EXPECT_NE(nodes.out.find("3 up"), std::string::npos) << nodes.out;
  auto b = ctl(*n1, R"(broadcast --local '{"msg":"still here"}')");
  EXPECT_NE(b.out.find("OK (1 clients)"), std::string::npos) << b.out;
  EXPECT_TRUE(hears(*victim, "still here"));
}

TEST(cluster_control_alone, a_node_without_a_cluster_answers_for_itself) {
  auto solo = start_node("solo");
  auto c = subscribed(*solo, "t", "u");
  auto topics = ctl(*solo, "topics --cluster --json");
  ASSERT_EQ(topics.code, 0) << topics.out;
  simdjson::dom::parser parser;
  auto doc = parser.parse(topics.out);
  ASSERT_FALSE(doc.error()) << topics.out;
  EXPECT_EQ(strings(doc["answered"]), std::vector<std::string>{"solo"});
  EXPECT_EQ(strings(doc["topics"], "node"), std::vector<std::string>{"solo"});

  // kick --user and broadcast answer exactly as a single node always did.
  auto b = ctl(*solo, R"(--json broadcast '{"msg":"hi"}')");
  EXPECT_EQ(b.out, "{\"ok\":true,\"clients\":1}\n");
  EXPECT_TRUE(hears(*c, "hi"));
  auto kick = ctl(*solo, "--json kick --user u");
  EXPECT_EQ(kick.out, "{\"ok\":true,\"kicked\":1}\n");
  EXPECT_FALSE(c->read(3000ms));
  EXPECT_EQ(c->close_code(), 1008);
}
