// Cluster membership between real tickgate processes: three nodes join
// through a seed and agree on who is up; a killed node is marked down, a
// node stopped with SIGTERM leaves, a restarted one rejoins; another
// cluster's node, a wrong secret, a certificate from another CA and a
// plain-TCP node are refused and counted; a non-loopback cluster listener
// needs TLS or cluster.insecure.

#include <csignal>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>
#include <sys/wait.h>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "support/node_process.hpp"
#include "support/ws_client.hpp"

using namespace std::chrono_literals;
using namespace tickgate::test;

namespace {

const std::string admin_secret = "S";

std::unique_ptr<node_process> start_node(const std::string& id,
                                         std::vector<std::string> extra = {}) {
  std::vector<std::string> args{"--node-id=" + id, "--admin.secret=" + admin_secret,
                                "--cluster.pick-port"};
  args.insert(args.end(), extra.begin(), extra.end());
  return std::make_unique<node_process>(args);
}

std::string address_of(const node_process& n) {
  return "127.0.0.1:" + std::to_string(n.cluster_port());
}

std::string seed(const node_process& n) {
  return "--cluster.seeds=[\"" + address_of(n) + "\"]";
}

std::string cluster_json(const node_process& n) {
  return http_request_with_header(n.port(), "GET", "/api/cluster", "X-Admin-Secret",
                                  admin_secret)
    .body;
}

/// One member as GET /api/cluster on a node lists it; state "" when the
/// node does not list it.
struct listed_member {
  std::string state;
  std::string address;
  int64_t http_port = 0;
};

listed_member listed(const node_process& on, const std::string& id) {
  auto body = cluster_json(on);
  simdjson::dom::parser parser;
  simdjson::dom::array members;
  if (parser.parse(body)["members"].get(members))
    return {};
  for (auto m : members) {
    std::string_view name;
    if (m["id"].get(name) || name != id)
      continue;
    listed_member out;
    std::string_view state;
    std::string_view address;
    if (!m["state"].get(state))
      out.state = state;
    if (!m["address"].get(address))
      out.address = address;
    if (m["http_port"].get(out.http_port))
      out.http_port = 0;
    return out;
  }
  return {};
}

bool lists_up(const node_process& on, const node_process& member, const std::string& id) {
  auto m = listed(on, id);
  return m.state == "up" && m.address == address_of(member) && m.http_port == member.port();
}

double metric(const node_process& n, const std::string& name) {
  return node_metric(n.port(), name);
}

const std::string failures = "tickgate_cluster_member_failures_total";
const std::string leaves = "tickgate_cluster_member_leaves_total";
const std::string joins_refused = "tickgate_cluster_joins_refused_total";
const std::string dial_failures = "tickgate_cluster_dial_failures_total";

/// A temporary folder with a CA and certificates it signed, made with the
/// openssl CLI; removed with the object.
struct cert_dir {
  std::string path;

  cert_dir() {
    char tmpl[] = "/tmp/tickgate-certs-XXXXXX";
    if (!mkdtemp(tmpl))
      throw std::runtime_error("mkdtemp failed");
    path = tmpl;
  }
  ~cert_dir() {
    std::string cmd = "rm -rf '" + path + "'";
    if (std::system(cmd.c_str()) != 0) {
      // leftover temp dir: harmless
    }
  }

  std::string file(const std::string& name) const { return path + "/" + name; }

  // A self-signed CA: <ca>.pem, <ca>.key.
  void make_ca(const std::string& ca) const {
    run("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=tickgate-test-" + ca
        + " -keyout " + ca + ".key -out " + ca + ".pem");
  }

  // A node certificate signed by `ca`: <name>.pem, <name>.key.
  void make_cert(const std::string& name, const std::string& ca) const {
    run("openssl req -newkey rsa:2048 -nodes -subj /CN=" + name + " -keyout " + name
        + ".key -out " + name + ".csr");
    run("openssl x509 -req -days 2 -in " + name + ".csr -CA " + ca + ".pem -CAkey " + ca
        + ".key -CAcreateserial -out " + name + ".pem");
  }

  // The flags that put a node's cluster on TLS with `name`'s certificate.
  std::vector<std::string> tls_flags(const std::string& name, const std::string& ca) const {
    return {"--cluster.certificate=" + file(name + ".pem"), "--cluster.key=" + file(name + ".key"),
            "--cluster.cafile=" + file(ca + ".pem")};
  }

private:
  void run(const std::string& command) const {
    auto r = run_command("cd '" + path + "' && " + command);
    if (r.code != 0)
      throw std::runtime_error(command + ": " + r.out);
  }
};

} // namespace

TEST(cluster_membership, three_nodes_agree_then_one_fails_one_leaves_and_one_rejoins) {
  auto n1 = start_node("n1");
  ASSERT_NE(n1->cluster_port(), 0);
  auto n2 = start_node("n2", {seed(*n1)});
  auto n3 = start_node("n3", {seed(*n1)});
  struct named {
    node_process* node;
    const char* id;
  };
  std::vector<named> nodes{{n1.get(), "n1"}, {n2.get(), "n2"}, {n3.get(), "n3"}};

  // Every node lists all three up, with the others' addresses and HTTP ports.
  for (auto& on : nodes)
    for (auto& member : nodes)
      EXPECT_TRUE(eventually([&] { return lists_up(*on.node, *member.node, member.id); }))
        << on.id << " does not list " << member.id << " up: " << cluster_json(*on.node);
  for (auto& on : nodes) {
    simdjson::dom::parser parser;
    auto health = http_request(on.node->port(), "GET", "/health").body;
    simdjson::dom::element cluster;
    ASSERT_FALSE(parser.parse(health)["cluster"].get(cluster)) << health;
    EXPECT_EQ(int64_t(cluster["members"]), 3) << on.id << ": " << health;
    EXPECT_EQ(int64_t(cluster["up"]), 3) << on.id << ": " << health;
  }
  auto ctl = run_command(tickgate_binary() + "ctl --node 127.0.0.1:"
                         + std::to_string(n1->admin_port()) + " --secret " + admin_secret
                         + " nodes");
  EXPECT_EQ(ctl.code, 0) << ctl.out;
  EXPECT_NE(ctl.out.find("3 up, 0 down"), std::string::npos) << ctl.out;
  for (auto* id : {"n1 *", "n2", "n3"})
    EXPECT_NE(ctl.out.find(id), std::string::npos) << id << " missing:\n" << ctl.out;

  // kill -9: the others mark it down within 5 s and count one failure.
  ASSERT_NE(n2->stop(SIGKILL, 2000ms), -1);
  for (auto* on : {n1.get(), n3.get()}) {
    EXPECT_TRUE(eventually([&] { return listed(*on, "n2").state == "down"; }, 5000ms))
      << cluster_json(*on);
    EXPECT_EQ(metric(*on, failures), 1);
  }

  // SIGTERM: a graceful leave, removed without a failure.
  int status = n3->stop(SIGTERM, 8000ms);
  ASSERT_NE(status, -1);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_TRUE(eventually([&] { return listed(*n1, "n3").state.empty(); }, 5000ms))
    << cluster_json(*n1);
  EXPECT_EQ(metric(*n1, leaves), 1);
  EXPECT_EQ(metric(*n1, failures), 1);

  // The killed node restarts under the same id (at a new address) and rejoins.
  n2 = start_node("n2", {seed(*n1)});
  EXPECT_TRUE(eventually([&] { return lists_up(*n1, *n2, "n2"); })) << cluster_json(*n1);
  EXPECT_TRUE(eventually([&] { return lists_up(*n2, *n1, "n1"); })) << cluster_json(*n2);
  EXPECT_TRUE(listed(*n2, "n3").state.empty()) << cluster_json(*n2);
  EXPECT_EQ(metric(*n1, failures), 1);
}

TEST(cluster_membership, another_cluster_name_or_a_wrong_secret_is_refused_and_counted) {
  auto n1 = start_node("n1", {"--cluster.secret=right"});
  // Quick retries, so the refused nodes dial again while the test watches.
  auto other = start_node("other", {seed(*n1), "--cluster.name=elsewhere",
                                    "--cluster.secret=right", "--cluster.retry-interval=200ms"});
  auto wrong = start_node("wrong", {seed(*n1), "--cluster.secret=guess",
                                    "--cluster.retry-interval=200ms"});
  auto refused_twice_each = [&] {
    return metric(*other, dial_failures) >= 2 && metric(*wrong, dial_failures) >= 2
           && metric(*n1, joins_refused) >= 4;
  };
  EXPECT_TRUE(eventually(refused_twice_each, 5000ms))
    << "n1 refused " << metric(*n1, joins_refused) << ", other failed "
    << metric(*other, dial_failures) << ", wrong failed " << metric(*wrong, dial_failures);
  for (auto* id : {"other", "wrong"})
    EXPECT_TRUE(listed(*n1, id).state.empty()) << cluster_json(*n1);
  EXPECT_TRUE(listed(*other, "n1").state.empty()) << cluster_json(*other);
  EXPECT_TRUE(listed(*wrong, "n1").state.empty()) << cluster_json(*wrong);
  EXPECT_NE(other->log().find("cluster name 'elsewhere'"), std::string::npos) << other->log();
  EXPECT_NE(wrong->log().find("wrong cluster secret"), std::string::npos) << wrong->log();
}

TEST(cluster_membership, tls_admits_peers_of_the_same_ca_only) {
  cert_dir certs;
  certs.make_ca("ca1");
  certs.make_ca("ca2");
  certs.make_cert("a", "ca1");
  certs.make_cert("b", "ca1");
  certs.make_cert("c", "ca2");

  auto a = start_node("tls-a", certs.tls_flags("a", "ca1"));
  auto b_flags = certs.tls_flags("b", "ca1");
  b_flags.push_back(seed(*a));
  auto b = start_node("tls-b", b_flags);
  EXPECT_TRUE(eventually([&] { return lists_up(*a, *b, "tls-b"); })) << cluster_json(*a);
  EXPECT_TRUE(eventually([&] { return lists_up(*b, *a, "tls-a"); })) << cluster_json(*b);
  simdjson::dom::parser parser;
  auto view = cluster_json(*a);
  EXPECT_EQ(bool(parser.parse(view)["tls"]), true) << view;

  // Another CA's certificate, and no TLS at all: the handshake fails.
  auto c_flags = certs.tls_flags("c", "ca2");
  c_flags.push_back(seed(*a));
  auto c = start_node("tls-c", c_flags);
  auto plain = start_node("plain", {seed(*a)});
  EXPECT_TRUE(eventually([&] {
    return metric(*c, dial_failures) >= 1 && metric(*plain, dial_failures) >= 1;
  })) << "tls-c failed " << metric(*c, dial_failures) << ", plain failed "
      << metric(*plain, dial_failures);
  for (auto* id : {"tls-c", "plain"})
    EXPECT_TRUE(listed(*a, id).state.empty()) << cluster_json(*a);
  EXPECT_TRUE(listed(*c, "tls-a").state.empty()) << cluster_json(*c);
  EXPECT_TRUE(listed(*plain, "tls-a").state.empty()) << cluster_json(*plain);
  EXPECT_EQ(listed(*a, "tls-b").state, "up");
}

TEST(cluster_membership, a_non_loopback_listener_needs_tls_or_insecure) {
  auto refused = run_command("timeout 10 " + tickgate_binary()
                             + " --ws.host=127.0.0.1 --ws.port=0 --admin.port=0"
                               " --cluster.pick-port --cluster.host=0.0.0.0"
                               " --cluster.advertise=127.0.0.1:1");
  EXPECT_EQ(refused.code, 2) << refused.out;
  EXPECT_NE(refused.out.find("TLS"), std::string::npos) << refused.out;
  EXPECT_NE(refused.out.find("cluster.insecure"), std::string::npos) << refused.out;

  auto port = free_port_for_test();
  auto advertised = "127.0.0.1:" + std::to_string(port);
  node_process insecure{{"--node-id=open", "--admin.secret=" + admin_secret,
                         "--cluster.port=" + std::to_string(port), "--cluster.host=0.0.0.0",
                         "--cluster.insecure", "--cluster.advertise=" + advertised}};
  EXPECT_EQ(insecure.cluster_port(), port);
  // The node actor learns its address by message once the listener is
  // bound, just after the ready file is written.
  EXPECT_TRUE(eventually([&] { return listed(insecure, "open").address == advertised; }))
    << cluster_json(insecure);
  int status = insecure.stop(SIGTERM, 8000ms);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}
