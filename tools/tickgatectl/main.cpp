// tickgatectl: inspects and operates a live tickgate node through its
// inspector actor (CAF middleman, admin port). Every listing also takes
// --json for scripts. Exit codes: 0 ok, 1 command failed, 2 node unreachable,
// 3 access denied (wrong or missing secret).

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>

#include "actors/vocabulary.hpp"
#include "tools/tickgatectl/render.hpp"

namespace {

struct target {
  std::string host = "127.0.0.1";
  uint16_t port = 8089;
};

bool parse_node(const std::string& s, target& t) {
  auto colon = s.rfind(':');
  if (colon == std::string::npos)
    return false;
  t.host = s.substr(0, colon);
  if (t.host.size() > 2 && t.host.front() == '[' && t.host.back() == ']')
    t.host = t.host.substr(1, t.host.size() - 2);
  try {
    auto p = std::stoi(s.substr(colon + 1));
    if (p <= 0 || p > 65535)
      return false;
    t.port = static_cast<uint16_t>(p);
  } catch (...) {
    return false;
  }
  return !t.host.empty();
}

/// One request to the node's inspector; the JSON answer or an exit code.
class node_link {
public:
  node_link(const target& t, std::string secret) : secret_(std::move(secret)) {
    cfg_.load<caf::io::middleman>();
    cfg_.set("logger.console", caf::atom("none"));
    sys_ = std::make_unique<caf::actor_system>(cfg_);
    auto remote = sys_->middleman().remote_actor(t.host, t.port);
    if (!remote) {
      std::fprintf(stderr, "tickgatectl: cannot reach node at %s:%u (%s)\n", t.host.c_str(),
                   t.port, sys_->render(remote.error()).c_str());
      exit_code_ = 2;
      return;
    }
    inspector_ = *remote;
  }

  bool connected() const { return static_cast<bool>(inspector_); }
  int exit_code() const { return exit_code_; }

  /// Sends `command`; returns the JSON text or sets exit_code() and returns "".
  std::string call(const std::string& command, const std::vector<std::string>& args) {
    caf::scoped_actor self{*sys_};
    std::string out;
    self->request(inspector_, std::chrono::seconds(15), tickgate::admin_atom_v, secret_,
                  command, args)
      .receive([&](const std::string& json) { out = json; },
               [&](caf::error& err) {
                 std::fprintf(stderr, "tickgatectl: node did not answer: %s\n",
                              sys_->render(err).c_str());
                 exit_code_ = 2;
               });
    if (!out.empty() && out.find(R"("ok":true)") != 1) {
      auto err = tickgatectl::error_of(out);
      std::fprintf(stderr, "tickgatectl: %s\n", err.message.c_str());
      exit_code_ = err.code == "denied" ? 3 : 1;
      return {};
    }
    return out;
  }

private:
  caf::actor_system_config cfg_;
  std::unique_ptr<caf::actor_system> sys_;
  caf::actor inspector_;
  std::string secret_;
  int exit_code_ = 0;
};

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"tickgatectl: inspect and operate a tickgate node"};
  app.require_subcommand(1);
  // Global options (--node, --secret, --json) are accepted after the
  // subcommand too (`tickgatectl topics --json`): subcommands created from
  // here on hand options they do not know to the app.
  app.fallthrough();
  std::string node = "127.0.0.1:8089";
  std::string secret;
  bool json = false;
  if (auto env = std::getenv("ADMIN_PORT"))
    node = std::string{"127.0.0.1:"} + env;
  if (auto env = std::getenv("ADMIN_SECRET"))
    secret = env;
  app.add_option("--node", node, "host:port of the node's admin listener (default 127.0.0.1:8089, or ADMIN_PORT)");
  app.add_option("--secret", secret, "shared secret, if the node has one (or ADMIN_SECRET)");
  app.add_flag("--json", json, "print the node's JSON answer instead of a table");

  // --cluster: every up member answers (rows labelled with their node id);
  // kick --user and broadcast act on every member unless --local.
  bool cluster = false, local = false;
  auto* info_cmd = app.add_subcommand("info", "node id, version, uptime, ports, Redis state, counts");
  info_cmd->add_flag("--cluster", cluster, "every up member, one line each, and the totals");
  app.add_subcommand("stats", "every metric of the node, one group.key value line each");
  auto* actors = app.add_subcommand("actors", "one line per actor");
  std::string kind, sort_by;
  size_t limit = 0;
  actors->add_option("--kind", kind, "topic, connection, bridge, router, inspector, demo_feed");
  actors->add_option("--sort", sort_by, "mailbox, msgs or age (descending)");
  actors->add_option("--limit", limit, "at most this many lines");
  app.add_subcommand(
       "topics", "topic, subscribers, seq, epoch, msgs/s, last publish age, retained events "
                 "and bytes, snapshot age")
    ->add_flag("--cluster", cluster, "every up member's topics, with a NODE column");
  app.add_subcommand("connections", "one key=value line per client")
    ->add_flag("--cluster", cluster, "every up member's clients, with node=");
  app.add_subcommand("nodes", "every cluster member: id, address, state, connections, topics, "
                              "last heartbeat");
  auto* show = app.add_subcommand("show", "everything about one actor, connection or topic");
  std::string what;
  show->add_option("what", what, "actor id, connection id or topic name")->required();
  auto* kick = app.add_subcommand("kick", "close a client, or every client of --user (1008 kicked by operator)");
  std::string conn_id, user;
  auto* by_id = kick->add_option("conn-id", conn_id, "connection id (see connections)");
  auto* by_user = kick->add_option("--user", user, "every connection authenticated as this user");
  by_id->excludes(by_user);
  kick->require_option(std::size_t{1}, std::size_t{2});
  kick->add_flag("--local", local, "--user on this node only (in a cluster it acts on every member)")
    ->needs(by_user);
  auto* restart = app.add_subcommand("restart", "fault injection: the topic fails and is restarted");
  std::string topic;
  restart->add_option("topic", topic, "topic name")->required();
  auto* publish = app.add_subcommand("publish", "publish a JSON payload to a topic");
  std::string payload;
  publish->add_option("topic", topic, "topic name")->required();
  publish->add_option("json", payload, "payload (JSON)")->required();
  auto* broadcast = app.add_subcommand("broadcast", "system message to every client (of every cluster member)");
  broadcast->add_option("json", payload, "payload (JSON)")->required();
  broadcast->add_flag("--local", local, "this node's clients only");
  auto* maintenance = app.add_subcommand(
    "maintenance", "on: refuse new clients (503, Retry-After), /ready 503, tell connected "
                   "clients; off: admit them again");
  std::string mode, why;
  std::string retry_after;
  maintenance->add_option("state", mode, "on or off")->required()->check(CLI::IsMember({"on", "off"}));
  maintenance->add_option("--message", why, "why, for clients and load balancers");
  maintenance->add_option("--retry-after", retry_after, "seconds clients should wait (default 30)");
  auto* top = app.add_subcommand("top", "live view of the busiest actors and topics");
  double interval = 1.0;
  size_t iterations = 0;
  top->add_option("--interval", interval, "seconds between refreshes");
  top->add_option("--iterations", iterations, "stop after this many refreshes (0: until Ctrl-C)");
  CLI11_PARSE(app, argc, argv);

  target t;
  if (!parse_node(node, t)) {
    std::fprintf(stderr, "tickgatectl: --node wants host:port, got '%s'\n", node.c_str());
    return 1;
  }
  node_link link{t, secret};
  if (!link.connected())
    return link.exit_code();
  auto sub = app.get_subcommands().front();
  auto name = sub->get_name();

  // The inspector's cluster scope: a last argument "cluster".
  auto scoped = [](std::vector<std::string> args, bool wide) {
    if (wide)
      args.push_back("cluster");
    return args;
  };
  auto run = [&](const std::string& command, std::vector<std::string> args,
                 auto render) -> int {
    auto out = link.call(command, args);
    if (out.empty())
      return link.exit_code();
    if (json)
      std::printf("%s\n", out.c_str());
    else
      render(out);
    return 0;
  };

  if (name == "info")
    return run("info", scoped({}, cluster),
               cluster ? tickgatectl::print_cluster_info : tickgatectl::print_info);
  if (name == "stats")
    return run("stats", {}, tickgatectl::print_stats);
  if (name == "actors")
    return run("actors", {kind, sort_by, limit ? std::to_string(limit) : ""},
               tickgatectl::print_actors);
  if (name == "topics")
    return run("topics", scoped({}, cluster), tickgatectl::print_topics);
  if (name == "connections")
    return run("connections", scoped({}, cluster), tickgatectl::print_connections);
  if (name == "show")
    return run("show", {what}, tickgatectl::print_show);
  if (name == "nodes")
    return run("nodes", {}, tickgatectl::print_nodes);
  if (name == "kick")
    return run("kick", scoped({conn_id, user}, conn_id.empty() && !local), // ids are per node
               tickgatectl::print_ok);
  if (name == "maintenance")
    return run("maintenance", {mode, why, retry_after}, tickgatectl::print_ok);
  if (name == "restart")
    return run("restart", {topic}, tickgatectl::print_ok);
  if (name == "publish")
    return run("publish", {topic, payload}, tickgatectl::print_ok);
  if (name == "broadcast")
    return run("broadcast", scoped({payload}, !local), tickgatectl::print_ok);
  if (name == "top") {
    for (size_t i = 0; iterations == 0 || i < iterations; ++i) {
      auto info = link.call("info", {});
      auto busiest = link.call("actors", {"", "mailbox", "15"});
      auto topics = link.call("topics", {});
      if (info.empty() || busiest.empty() || topics.empty())
        return link.exit_code();
      tickgatectl::print_top(info, busiest, topics, json);
      std::fflush(stdout);
      if (iterations != 0 && i + 1 == iterations)
        break;
      std::this_thread::sleep_for(std::chrono::duration<double>(interval));
    }
    return 0;
  }
  return 1;
}
