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

// tools/cluster itself: `up` starts three nodes and nginx on free ports and
// prints them with the member table, a client through nginx gets what is
// published on any node, and `down` stops exactly the processes `up` started.
TEST(cluster_nginx, tools_cluster_up_serves_through_nginx_and_down_stops_what_it_started) {
  char tmpl[] = "/tmp/tickgate-cluster-XXXXXX";
  ASSERT_TRUE(mkdtemp(tmpl));
  std::string dir = tmpl;
  auto build = std::filesystem::path{tickgate_binary()}.parent_path().string();
  std::string cmd = "CLUSTER_DIR=" + dir + " BUILD_DIR=" + build + " " TICKGATE_SOURCE_DIR "/tools/cluster ";
  struct stop_at_end {
    std::string cmd;
    ~stop_at_end() { run_command(cmd + "down"); }
  } stop{cmd};
  auto up = run_command(cmd + "up --no-setup");
  ASSERT_EQ(up.code, 0) << up.out;
  std::vector<pid_t> pids;
  std::vector<uint16_t> ports;
  std::regex node_line{R"(n\d  pid (\d+) +http://127\.0\.0\.1:(\d+))"};
  for (std::sregex_iterator it{up.out.begin(), up.out.end(), node_line}, end; it != end; ++it) {
    pids.push_back(std::stoi((*it)[1]));
    ports.push_back(static_cast<uint16_t>(std::stoi((*it)[2])));
  }
  ASSERT_EQ(pids.size(), 3u) << up.out;
  std::smatch lb_line;
  ASSERT_TRUE(std::regex_search(up.out, lb_line, std::regex{R"(nginx pid (\d+)  ws://127\.0\.0\.1:(\d+)/v1)"}))
    << up.out;
  pids.push_back(std::stoi(lb_line[1]));
  auto lb = static_cast<uint16_t>(std::stoi(lb_line[2]));
  EXPECT_NE(up.out.find("3 up, 0 down"), std::string::npos) << up.out;

  ws_client client{lb};
  auto ack = subscribe(client, R"(["trade@SCRIPT"])");
  ASSERT_EQ(json_string(ack, "type"), "ack") << ack;
  for (auto port : ports) {
    auto r = http_request(port, "POST", "/api/publish",
                          R"({"topic":"trade@SCRIPT","data":)" + std::to_string(port) + "}");
    ASSERT_TRUE(r.status == 200 || r.status == 202) << r.body;
    auto m = client.read_until([](const ws_message& m) { return json_string(m.data, "type") == "event"; });
    ASSERT_TRUE(m);
    EXPECT_EQ(json_field(m->data, "data"), std::to_string(port));
  }
  auto status = run_command(cmd + "status");
  EXPECT_EQ(status.code, 0) << status.out;
  EXPECT_NE(status.out.find("nginx pid " + std::to_string(pids.back())), std::string::npos) << status.out;

  auto down = run_command(cmd + "down");
  EXPECT_EQ(down.code, 0) << down.out;
  EXPECT_NE(down.out.find("cluster stopped"), std::string::npos) << down.out;
  // Gone, or a zombie its new parent has yet to reap.
  auto gone = [](pid_t pid) {
    std::ifstream stat{"/proc/" + std::to_string(pid) + "/stat"};
    std::string line;
    if (!std::getline(stat, line))
      return true;
    auto close = line.rfind(')');
    return close != std::string::npos && close + 2 < line.size() && line[close + 2] == 'Z';
  };
  for (auto pid : pids)
    EXPECT_TRUE(eventually([&] { return gone(pid); }, 10s)) << "pid " << pid << " still runs";
  EXPECT_NE(run_command(cmd + "down").out.find("nothing was running"), std::string::npos);
  std::filesystem::remove_all(dir);
}

} // namespace
