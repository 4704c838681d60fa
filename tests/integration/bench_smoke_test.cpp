// tickgate-bench runs every scenario for a second against the real binary and
// produces a sane JSON line (no performance is asserted here: figures come
// from real runs, see README "Performance").

#include <cstdio>
#include <sys/wait.h>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "support/node_process.hpp"
#include "support/redis_process.hpp"
#include "support/ws_client.hpp"

using namespace std::chrono_literals;
using namespace tickgate::test;

namespace {

struct bench_run {
  int code = -1;
  std::string json; // the last line
  std::string out;
};

bench_run bench(const std::string& args) {
  std::string cmd = tickgate_binary();
  cmd += "-bench ";
  cmd += args;
  auto result = run_command(cmd);
  bench_run r{result.code, {}, result.out};
  auto last = r.out.rfind("\n{");
  if (last != std::string::npos)
    r.json = r.out.substr(last + 1);
  return r;
}

double num(const std::string& json, const char* key) {
  simdjson::dom::parser parser;
  double v = -1;
  auto doc = parser.parse(json);
  if (doc[key].get_double().get(v)) {
    int64_t i = 0;
    if (!doc[key].get_int64().get(i))
      return static_cast<double>(i);
    return -1;
  }
  return v;
}

std::string url(const node_process& node, const char* path = "/v1") {
  return "--url ws://127.0.0.1:" + std::to_string(node.port()) + path;
}

} // namespace

TEST(bench_smoke, fanout_delivers_every_publish_to_every_client_without_gaps) {
  node_process node;
  auto r = bench("fanout " + url(node) + " --clients 20 --rate 100 --duration 1 --warmup 0.3"
                 " --server-pid " + std::to_string(node.pid()));
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(num(r.json, "connected"), 20);
  EXPECT_EQ(num(r.json, "gaps"), 0);
  EXPECT_GT(num(r.json, "delivered_per_s"), 1000); // 20 clients x ~100/s
  EXPECT_GT(num(r.json, "p50_ms"), 0);
  EXPECT_GT(num(r.json, "server_rss_kib_after"), 0);
  EXPECT_NE(r.out.find("latency ms"), std::string::npos);
}

TEST(bench_smoke, wide_spreads_clients_over_topics) {
  node_process node;
  auto r = bench("wide " + url(node) + " --clients 30 --topics 10 --per-client 3 --rate 300"
                 " --duration 1 --warmup 0.3");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(num(r.json, "connected"), 30);
  EXPECT_EQ(num(r.json, "gaps"), 0);
  EXPECT_GT(num(r.json, "delivered_per_s"), 500); // each publish reaches 9 clients
}

TEST(bench_smoke, idle_reports_server_memory_per_connection) {
  node_process node;
  auto r = bench("idle " + url(node) + " --clients 200 --duration 0.5 --warmup 0.2"
                 " --server-pid " + std::to_string(node.pid()));
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(num(r.json, "connected"), 200);
  EXPECT_GT(num(r.json, "server_rss_bytes_per_conn"), 0);
  EXPECT_NE(r.out.find("per connection"), std::string::npos);
}

TEST(bench_smoke, churn_counts_complete_cycles) {
  node_process node;
  auto r = bench("churn " + url(node) + " --concurrency 10 --rate 2000 --duration 1 --warmup 0.3");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_GT(num(r.json, "churn_per_s"), 10);
}

TEST(bench_smoke, the_action_protocol_through_redis_drives_the_same_way) {
  redis_process redis;
  node_process node({"--redis.url=" + redis.url()});
  auto r = bench("fanout " + url(node, "/") + " --protocol action --redis " + redis.url()
                 + " --clients 10 --rate 100 --duration 1 --warmup 0.3");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(num(r.json, "connected"), 10);
  EXPECT_EQ(num(r.json, "gaps"), 0);
  EXPECT_GT(num(r.json, "delivered_per_s"), 500);
}

TEST(bench_smoke, fanout_over_two_nodes_of_a_cluster_reports_each_node_and_the_relays) {
  node_process n1({"--node-id=n1", "--cluster.pick-port"});
  node_process n2({"--node-id=n2", "--cluster.pick-port",
                   "--cluster.seeds=127.0.0.1:" + std::to_string(n1.cluster_port())});
  auto up = [](const node_process& n) {
    return node_metric(n.port(), "tickgate_cluster_members{state=\"up\"}") == 2;
  };
  ASSERT_TRUE(eventually([&] { return up(n1) && up(n2); }, 10s)) << "the cluster did not form";
  // Clients alternate between the nodes; publishes go to n1 (the first --url).
  auto r = bench("fanout " + url(n1) + " " + url(n2) + " --clients 20 --rate 100 --duration 1 --warmup 0.3"
                 " --server-pid " + std::to_string(n1.pid()) + " --server-pid " + std::to_string(n2.pid()));
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(num(r.json, "connected"), 20);
  EXPECT_EQ(num(r.json, "gaps"), 0);
  EXPECT_EQ(num(r.json, "urls"), 2);
  simdjson::dom::parser parser;
  auto doc = parser.parse(r.json);
  ASSERT_FALSE(doc.error()) << r.json;
  auto by_node = doc["delivered_by_node"].get_array();
  auto servers = doc["servers"].get_array();
  ASSERT_FALSE(by_node.error() || servers.error()) << r.json;
  ASSERT_EQ(by_node.size(), 2u);
  ASSERT_EQ(servers.size(), 2u);
  // Each node's 10 clients got every event (~100 in the window each), and
  // each PID is charged with its own node's deliveries.
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_GT(by_node.at(i).get_uint64().value(), 500u) << r.json;
    EXPECT_EQ(servers.at(i)["deliveries"].get_uint64().value(), by_node.at(i).get_uint64().value());
    EXPECT_GT(servers.at(i)["cpu_us_per_delivery"].get_double().value(), 0) << r.json;
  }
  EXPECT_NE(r.out.find("server 2 cpu"), std::string::npos) << r.out;
  // Both nodes have subscribers: the home relays each event once, to the other.
  EXPECT_NEAR(num(r.json, "relayed_out_per_event"), 1.0, 0.05) << r.json;
}
