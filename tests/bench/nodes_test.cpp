#include "tools/tickgate-bench/nodes.hpp"

#include <gtest/gtest.h>

using namespace tickgate::bench;

TEST(parse_ws_url, reads_host_port_and_path) {
  endpoint_info ep;
  ASSERT_TRUE(parse_ws_url("ws://127.0.0.1:8080/v1", ep));
  EXPECT_EQ(ep.host, "127.0.0.1");
  EXPECT_EQ(ep.port, 8080);
  EXPECT_EQ(ep.path, "/v1");
  ASSERT_TRUE(parse_ws_url("ws://127.0.0.1:9000", ep));
  EXPECT_EQ(ep.path, "/");
  EXPECT_FALSE(parse_ws_url("ws://127.0.0.1/v1", ep));
  EXPECT_FALSE(parse_ws_url("ws://127.0.0.1:0/v1", ep));
}

TEST(node_of_client, spreads_clients_round_robin_over_the_urls) {
  std::vector<size_t> per_node(2);
  for (size_t i = 0; i < 2000; ++i)
    ++per_node[node_of_client(i, 2)];
  EXPECT_EQ(per_node[0], 1000u);
  EXPECT_EQ(per_node[1], 1000u);
  EXPECT_EQ(node_of_client(5, 1), 0u);
  EXPECT_EQ(node_of_client(4, 3), 1u);
}

TEST(deliveries_of_server, a_pid_is_charged_with_its_own_nodes_clients_only) {
  std::vector<uint64_t> by_node{700, 300};
  EXPECT_EQ(deliveries_of_server(0, by_node, 1000), 700u);
  EXPECT_EQ(deliveries_of_server(1, by_node, 1000), 300u);
  // A node without clients of its own (it publishes or relays): all of them.
  EXPECT_EQ(deliveries_of_server(2, by_node, 1000), 1000u);
}

TEST(metric_sample, finds_the_series_with_its_labels_exactly) {
  std::string body =
    "# HELP tickgate_cluster_relayed_total Relay frames.\n"
    "# TYPE tickgate_cluster_relayed_total counter\n"
    "tickgate_cluster_relayed_total{direction=\"in\"} 12\n"
    "tickgate_cluster_relayed_total{direction=\"out\"} 4000\n"
    "tickgate_cluster_relayed_total_extra 7\n";
  EXPECT_EQ(metric_sample(body, "tickgate_cluster_relayed_total{direction=\"out\"}"), 4000.0);
  EXPECT_EQ(metric_sample(body, "tickgate_cluster_relayed_total{direction=\"in\"}"), 12.0);
  EXPECT_FALSE(metric_sample(body, "tickgate_cluster_relayed_total"));
  EXPECT_FALSE(metric_sample("", "x"));
  EXPECT_EQ(metric_sample("x 1.5", "x"), 1.5); // no final newline
}
