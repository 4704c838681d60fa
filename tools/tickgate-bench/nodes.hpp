#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tickgate::bench {

/// One gateway a run drives: where its clients connect.
struct endpoint_info {
  std::string host;
  uint16_t port = 0;
  std::string path;
};

/// ws://host:port[/path]; false for a URL without a port.
bool parse_ws_url(const std::string& url, endpoint_info& out);

/// The node (index into the --url list) client `index` connects to: clients
/// are spread round-robin, so each of `nodes` nodes holds every nodes-th one.
inline size_t node_of_client(size_t index, size_t nodes) {
  return nodes ? index % nodes : 0;
}

/// The deliveries a --server-pid's CPU is divided by: the i-th PID is the
/// i-th --url's node and is charged with its own clients' deliveries; a PID
/// beyond the URLs (a node that only publishes or relays) with all of them.
uint64_t deliveries_of_server(size_t pid_index, const std::vector<uint64_t>& by_node,
                              uint64_t total);

/// The value of `series` (a metric name with its labels exactly as the node
/// writes them, e.g. tickgate_cluster_relayed_total{direction="out"}) in a
/// Prometheus text exposition; nothing if no sample line names it.
std::optional<double> metric_sample(std::string_view body, std::string_view series);

} // namespace tickgate::bench
