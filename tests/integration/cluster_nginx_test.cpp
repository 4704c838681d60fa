// Three nodes behind the real nginx with configs/nginx-cluster.conf (ports
// substituted as tools/cluster does): a client connected through nginx
// whose node is killed reconnects through nginx to another node and, with
// `since`, recovers a topic whose home survived and is told plainly
// (recovered:false) for a topic whose home died with its node.

#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support/json_fields.hpp"
#include "support/node_process.hpp"
#include "support/ws_client.hpp"

using namespace std::chrono_literals;
using namespace tickgate::test;

namespace {

// nginx from configs/nginx-cluster.conf, in the foreground, on free ports.
class nginx_process {
public:
  nginx_process(uint16_t listen, const std::vector<uint16_t>& nodes) {
    dir_ = std::filesystem::temp_directory_path() / ("tickgate-nginx-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_ / "tmp");
    std::ifstream in{std::string{TICKGATE_SOURCE_DIR} + "/configs/nginx-cluster.conf"};
    std::stringstream text;
    text << in.rdbuf();
    auto conf = text.str();
    conf = std::regex_replace(conf, std::regex{"127\\.0\\.0\\.1:8080"},
                              "127.0.0.1:" + std::to_string(listen));
    for (size_t i = 0; i < nodes.size(); ++i)
      conf = std::regex_replace(conf, std::regex{"127\\.0\\.0\\.1:808" + std::to_string(i + 1)},
                                "127.0.0.1:" + std::to_string(nodes[i]));
    std::ofstream{dir_ / "nginx.conf"} << conf;
    pid_ = fork();
    if (pid_ == 0) {
      auto prefix = (dir_ / "").string();
      auto file = (dir_ / "nginx.conf").string();
      execl("/usr/sbin/nginx", "nginx", "-p", prefix.c_str(), "-c", file.c_str(), "-g",
            "daemon off;", static_cast<char*>(nullptr));
      _exit(127);
    }
    up_ = eventually(
      [&] {
        try {
          return http_request(listen, "GET", "/health").status == 200;
        } catch (const std::exception&) {
          return false; // not listening yet
        }
      },
      5s);
  }

  ~nginx_process() {
    if (pid_ > 0)
      terminate_child(pid_, 3000ms);
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  bool up() const { return up_; }

private:
  std::filesystem::path dir_;
  pid_t pid_ = -1;
  bool up_ = false;
};

std::string epoch_in_ack(const std::string& ack, const std::string& topic) {
  return json_string(json_field(json_field(ack, "positions").c_str(), topic.c_str()), "epoch");
}

std::string home_in(const std::string& epoch) {
  return epoch.substr(0, epoch.find('-'));
}

std::string subscribe(ws_client& c, const std::string& topics_json, const std::string& options = "") {
  c.send_text(R"({"op":"subscribe","id":1,"topics":)" + topics_json + options + "}");
  auto m = c.read(10s);
  return m ? m->data : "<no reply>";
}

TEST(cluster_nginx, a_client_whose_node_dies_resumes_through_nginx_on_another_node) {
  std::vector<std::unique_ptr<node_process>> nodes;
  for (int i = 0; i < 3; ++i) {
    std::vector<std::string> args{"--node-id=n" + std::to_string(i + 1), "--cluster.pick-port",
                                  "--cluster.heartbeat-interval=200ms",
                                  "--cluster.failure-timeout=1s"};
    if (i > 0)
      args.push_back("--cluster.seeds=127.0.0.1:" + std::to_string(nodes[0]->cluster_port()));
    nodes.push_back(std::make_unique<node_process>(args));
  }
  ASSERT_TRUE(eventually(
    [&] {
      for (auto& n : nodes)
        if (node_metric(n->port(), "tickgate_cluster_members{state=\"up\"}") != 3)
          return false;
      return true;
    },
    10s));
  auto lb = free_port_for_test();
  nginx_process nginx{lb, {nodes[0]->port(), nodes[1]->port(), nodes[2]->port()}};
  ASSERT_TRUE(nginx.up()) << "nginx did not start";

  // The client, through nginx; which node holds it: the one with a connection.
  auto client = std::make_unique<ws_client>(lb);
  size_t x = 3;
  ASSERT_TRUE(eventually(
    [&] {
      for (size_t i = 0; i < 3; ++i)
        if (node_metric(nodes[i]->port(), "tickgate_connections{dialect=\"native\"}") == 1)
          x = i;
      return x < 3;
    },
    5s));
  auto victim = "n" + std::to_string(x + 1);
  // A topic homed on the client's node and one homed elsewhere; every other
  // node follows both (a direct subscriber each), so either node nginx picks
  // next has the surviving topic's history.
  std::vector<std::unique_ptr<ws_client>> keepers;
  std::string candidates = "[";
  for (int i = 0; i < 16; ++i)
    candidates += std::string{i ? "," : ""} + "\"trade@N" + std::to_string(i) + "\"";
  candidates += "]";
  std::string kept, lost;
  for (size_t i = 0; i < 3; ++i) {
    if (i == x)
      continue;
    keepers.push_back(std::make_unique<ws_client>(nodes[i]->port()));
    auto ack = subscribe(*keepers.back(), candidates);
    ASSERT_EQ(json_string(ack, "type"), "ack") << ack;
    for (int t = 0; t < 16; ++t) {
      auto name = "trade@N" + std::to_string(t);
      auto home = home_in(epoch_in_ack(ack, name));
      if (home == victim && lost.empty())
        lost = name;
      if (home != victim && kept.empty())
        kept = name;
    }
  }
  ASSERT_FALSE(kept.empty() || lost.empty());
  auto ack = subscribe(*client, "[\"" + kept + "\",\"" + lost + "\"]");
  ASSERT_EQ(json_string(ack, "type"), "ack") << ack;
  auto other = nodes[(x + 1) % 3]->port();
  for (int k = 1; k <= 4; ++k)
    for (auto& t : {kept, lost})
      ASSERT_EQ(http_request(other, "POST", "/api/publish",
                             R"({"topic":")" + t + R"(","data":)" + std::to_string(k) + "}")
                  .status,
                200);
  std::string kept_epoch, lost_epoch;
  for (int n = 0; n < 8; ++n) {
    auto m = client->read_until([](const ws_message& m) { return json_string(m.data, "type") == "event"; });
    ASSERT_TRUE(m);
    (json_string(m->data, "topic") == kept ? kept_epoch : lost_epoch) = json_string(m->data, "epoch");
  }

  // The client's node dies; the client comes back through nginx at seq 2.
  nodes[x]->stop(SIGKILL, 3000ms);
  EXPECT_TRUE(eventually(
    [&] {
      client->read(100ms);
      return client->closed();
    },
    5s));
  client.reset();
  ws_client back{lb};
  auto since = R"(,"since":{")" + kept + R"(":{"epoch":")" + kept_epoch + R"(","seq":2},")" + lost
               + R"(":{"epoch":")" + lost_epoch + R"(","seq":2}})";
  auto ack2 = subscribe(back, "[\"" + kept + "\",\"" + lost + "\"]", since);
  ASSERT_EQ(json_string(ack2, "type"), "ack") << ack2;
  auto recovered = json_field(ack2, "recovered");
  EXPECT_EQ(json_field(recovered, kept.c_str()), "true") << ack2;
  EXPECT_EQ(json_field(recovered, lost.c_str()), "false") << ack2;
  // The missed events of the surviving topic, in order, then live ones.
  std::vector<std::string> seqs;
  while (seqs.size() < 2) {
    auto m = back.read_until([&](const ws_message& m) {
      return json_string(m.data, "type") == "event" && json_string(m.data, "topic") == kept;
    });
    ASSERT_TRUE(m);
    seqs.push_back(json_field(m->data, "seq"));
  }
  EXPECT_EQ(seqs, (std::vector<std::string>{"3", "4"}));
}

} // namespace
