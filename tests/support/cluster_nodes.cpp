#include "support/cluster_nodes.hpp"

#include <gtest/gtest.h>

#include "support/json_fields.hpp"

using namespace std::chrono_literals;

namespace tickgate::test {

cluster::cluster(size_t n, std::vector<std::string> extra_args) : extra(std::move(extra_args)) {
  for (size_t i = 0; i < n; ++i)
    start(i);
  EXPECT_TRUE(eventually([&] { return all_see(n); }, 10s)) << "the cluster did not form";
}

std::vector<std::string> cluster::args(size_t i) const {
  std::vector<std::string> a{"--node-id=n" + std::to_string(i + 1), "--cluster.pick-port",
                             "--cluster.heartbeat-interval=200ms",
                             "--cluster.failure-timeout=1s", "--cluster.retry-interval=300ms"};
  if (i > 0 && nodes[0])
    a.push_back("--cluster.seeds=127.0.0.1:" + std::to_string(nodes[0]->cluster_port()));
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

void cluster::start(size_t i) {
  if (nodes.size() <= i)
    nodes.resize(i + 1);
  nodes[i] = std::make_unique<node_process>(args(i));
}

bool cluster::all_see(size_t n) const {
  for (auto& node : nodes)
    if (node && node_metric(node->port(), "tickgate_cluster_members{state=\"up\"}") != n)
      return false;
  return true;
}

std::string quoted_list(const std::vector<std::string>& topics) {
  std::string out = "[";
  for (auto& t : topics)
    out += (out.size() > 1 ? ",\"" : "\"") + t + "\"";
  return out + "]";
}

std::string subscribe(ws_client& c, const std::vector<std::string>& topics,
                      const std::string& options) {
  c.send_text(R"({"op":"subscribe","id":1,"topics":)" + quoted_list(topics) + options + "}");
  auto m = c.read(10s);
  return m ? m->data : "<no reply>";
}

std::string epoch_in_ack(const std::string& ack, const std::string& topic) {
  return json_string(json_field(json_field(ack, "positions").c_str(), topic.c_str()), "epoch");
}

std::string home_in(const std::string& epoch) {
  return epoch.substr(0, epoch.find('-'));
}

bool publish(uint16_t port, const std::string& topic, const std::string& data) {
  auto r = http_request(port, "POST", "/api/publish",
                        R"({"topic":")" + topic + R"(","data":)" + data + "}");
  return r.status == 200 || r.status == 202;
}

std::vector<seen_event> read_events(ws_client& c, size_t count, std::chrono::milliseconds timeout) {
  std::vector<seen_event> out;
  size_t events = 0;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (events < count) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0)
      break;
    auto m = c.read(left);
    if (!m)
      break;
    auto type = json_string(m->data, "type");
    if (type == "event") {
      out.push_back({json_string(m->data, "topic"), std::stoull(json_field(m->data, "seq")),
                     json_string(m->data, "epoch"), json_field(m->data, "data")});
      ++events;
    } else if (type == "reset") {
      out.push_back({json_string(m->data, "topic"), 0, json_string(m->data, "epoch"), {}});
    }
  }
  return out;
}

} // namespace tickgate::test
