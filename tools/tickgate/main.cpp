// tickgate: one node of the gateway. See README.md for options and protocol.

#include <chrono>
#include <cstdio>
#include <fstream>
#include <future>
#include <random>

#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <google/protobuf/stubs/logging.h>
#include <spdlog/fmt/fmt.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include "actors/demo_feed_actor.hpp"
#include "actors/feed_actor.hpp"
#include "actors/system_feed.hpp"
#include "actors/inspector_actor.hpp"
#include <caf/io/middleman.hpp>
#include <caf/openssl/manager.hpp>
#include <caf/openssl/publish.hpp>
#include <caf/scoped_actor.hpp>
#include "actors/node_actor.hpp"
#include "actors/metrics.hpp"
#include "actors/router_actor.hpp"
#include "actors/scheduler.hpp"
#include "actors/vocabulary.hpp"
#include "net/server.hpp"
#include "proto/json_writer.hpp"
#include "proto/topic_name.hpp"
#include "tools/tickgate/feeds.hpp"
#include "tools/tickgate/node_config.hpp"

namespace {

constexpr const char* version = "0.1.0";

std::string random_node_id() {
  std::random_device rd;
  return fmt::format("tg-{:08x}", rd());
}

void log_stats_line(const tickgate::net::node_info& node) {
  auto& m = tickgate::node_metrics();
  using namespace std::chrono;
  auto up = duration_cast<seconds>(steady_clock::now() - node.started).count();
  spdlog::info("node.stats {} uptime_s={}", tickgate::summary_line(m), up);
}

void schedule_stats(boost::asio::steady_timer& timer,
                    std::chrono::steady_clock::duration every,
                    const tickgate::net::node_info& node) {
  timer.expires_after(every);
  timer.async_wait([&timer, every, &node](boost::system::error_code ec) {
    if (ec)
      return;
    log_stats_line(node);
    schedule_stats(timer, every, node);
  });
}

void print_banner(const tickgate::net::node_info& node,
                  const tickgate::net::edge_settings& edge, uint16_t port,
                  bool demo) {
  auto host = edge.host == "0.0.0.0" || edge.host == "::" ? "127.0.0.1"
                                                          : edge.host;
  std::string endpoints;
  for (auto& [path, dialect] : edge.endpoints)
    endpoints += (endpoints.empty() ? "" : ", ") + path + " " + dialect;
  std::printf(
    "tickgate %s  node %s  mode %s%s\n"
    "  WebSocket  ws://%s:%u/v1   (%s)\n"
    "  HTTP       http://%s:%u    (/health, /api/stats, POST /api/publish, POST /api/broadcast)\n"
    "  dashboard  http://%s:%u/dashboard\n"
    "  try        wscat -c ws://%s:%u/v1  then  {\"op\":\"subscribe\",\"id\":1,\"topics\":[\"trade@AAPL\"]}\n"
    "  publish    curl -XPOST %s:%u/api/publish -d '{\"topic\":\"trade@AAPL\",\"data\":{\"p\":\"189.20\",\"q\":\"5\"}}'\n"
    "  Ctrl-C stops the node.\n",
    version, node.node_id.c_str(), node.mode.c_str(),
    demo ? " + demo feed" : "", host.c_str(), port,
    endpoints.c_str(), host.c_str(), port, host.c_str(),
    port, host.c_str(), port, host.c_str(), port);
  std::fflush(stdout);
}

} // namespace

int main(int argc, char** argv) {
  spdlog::set_default_logger(spdlog::stderr_color_mt("tickgate"));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  google::protobuf::SetLogHandler(
    [](google::protobuf::LogLevel level, const char*, int,
       const std::string& msg) {
      if (level >= google::protobuf::LOGLEVEL_ERROR)
        spdlog::debug("proto.lib {}", msg);
    });

  tickgate::node_config cfg;
  std::vector<std::string> args(argv + 1, argv + argc);
  if (auto err = cfg.parse(argc, argv)) {
    spdlog::error("config.invalid {}", cfg.render(err));
    return 2;
  }
  if (auto err = cfg.check_config_file()) {
    spdlog::error("config.invalid {}", *err);
    return 2;
  }
  if (cfg.cli_helptext_printed)
    return 0;
  cfg.apply_environment(args);
  spdlog::set_level(spdlog::level::from_str(cfg.log_level));
  if (cfg.node_id.empty())
    cfg.node_id = random_node_id();
  if (!tickgate::is_valid_topic(cfg.node_id) || cfg.node_id.size() > 64) {
    spdlog::error("config.invalid node-id '{}': 1-64 characters from letters, "
                  "digits and _-.:@/|=+", cfg.node_id);
    return 2;
  }

  tickgate::node_feeds feeds;
  if (auto err = tickgate::make_feeds(cfg, feeds)) {
    spdlog::error("config.invalid {}", *err);
    return 2;
  }

  tickgate::net::edge_settings edge;
  if (auto err = cfg.edge(edge)) {
    spdlog::error("config.invalid {}", *err);
    return 2;
  }
  cfg.apply_dialects();
  tickgate::auth_settings auth_cfg;
  if (auto err = cfg.auth(auth_cfg)) {
    spdlog::error("config.invalid {}", *err);
    return 2;
  }

  tickgate::history_settings history_cfg;
  if (auto err = cfg.history(history_cfg)) {
    spdlog::error("config.invalid {}", *err);
    return 2;
  }

  tickgate::cluster_settings cluster_cfg;
  if (auto err = cfg.cluster.apply(cluster_cfg)) {
    spdlog::error("config.invalid {}", *err);
    return 2;
  }
  if (cfg.cluster.enabled() && cfg.cluster.tls()) {
    // CAF's OpenSSL module: peers must present a certificate signed by the CA.
    cfg.openssl_certificate = cfg.cluster.certificate;
    cfg.openssl_key = cfg.cluster.key;
    cfg.openssl_passphrase = cfg.cluster.passphrase;
    cfg.openssl_cafile = cfg.cluster.cafile;
    cfg.load<caf::openssl::manager>();
  }

  tickgate::use_node_scheduler(cfg);
  caf::actor_system system{cfg};
  tickgate::net::net_context ctx{system};
  ctx.routing = cfg.routing();
  ctx.routing.history = std::move(history_cfg);
  ctx.routing.auth = std::make_shared<const tickgate::authenticator>(std::move(auth_cfg));
  if (!ctx.routing.auth->enabled())
    spdlog::info("auth.disabled no JWT key configured: tokens other than the admin secret are "
                 "refused, private topics and admin namespaces closed to every other client");
  ctx.edge = edge;
  ctx.gate = std::make_shared<tickgate::net::admission>(edge.admission);
  // The HTTP port is public; its /admin/ needs the shared secret or an admin JWT.
  ctx.admin_http = !cfg.admin_secret.empty() || ctx.routing.auth->enabled();
  ctx.admin_secret = cfg.admin_secret;
  ctx.node = {cfg.node_id, version, feeds.mode(), std::chrono::steady_clock::now()};
  // The inspector first: every other actor registers with it at start.
  tickgate::inspector_settings inspector_cfg;
  inspector_cfg.secret = cfg.admin_secret;
  inspector_cfg.maintenance = std::make_shared<tickgate::maintenance_mode>();
  ctx.maintenance = inspector_cfg.maintenance;
  cfg.admin_events(inspector_cfg.admin_stats_interval, inspector_cfg.alerts);
  inspector_cfg.node_id = cfg.node_id;
  ctx.inspector = system.spawn(tickgate::inspector_actor, inspector_cfg);
  ctx.routing.inspector = ctx.inspector;
  cluster_cfg.self.name = cfg.node_id;
  if (cluster_cfg.enabled)
    ctx.cluster_name = cluster_cfg.cluster_name;
  // The system topics' feed: the inspector publishes them.
  feeds.all.push_back(std::make_shared<tickgate::system_feed>(ctx.inspector));
  // One feed actor per feed; topics follow every feed, and publishes (HTTP,
  // admin, demo) go to the publishing feed, which delivers them to every node
  // it reaches (the bus: this node).
  std::vector<caf::actor> feed_actors;
  for (auto& f : feeds.all)
    if (auto peers = std::dynamic_pointer_cast<tickgate::peer_feed>(f))
      peers->spawn_link(system);
  for (auto& f : feeds.all)
    feed_actors.push_back(system.spawn(tickgate::feed_actor, f, caf::actor{}));
  ctx.router = system.spawn(tickgate::router_actor, ctx.routing, feed_actors);
  for (auto& a : feed_actors) {
    caf::anon_send(a, tickgate::use_atom_v, ctx.router);
    caf::anon_send(a, tickgate::register_atom_v, ctx.inspector);
  }
  ctx.bus = feed_actors[feeds.publishing];
  int rc = 0;
  caf::actor demo;
  // Ends every long-lived actor (the system's destructor waits for them).
  auto stop_actors = [&] {
    if (demo)
      caf::anon_send_exit(demo, caf::exit_reason::user_shutdown);
    for (auto& f : feeds.all)
      f->stop();
    for (auto& a : feed_actors)
      caf::anon_send(a, tickgate::stop_atom_v);
    caf::anon_send(ctx.router, tickgate::stop_atom_v);
    if (ctx.cluster)
      caf::send_as(ctx.inspector, ctx.cluster, tickgate::stop_atom_v);
    caf::anon_send_exit(ctx.inspector, caf::exit_reason::user_shutdown);
  };
  {
    tickgate::net::server srv{ctx};
    try {
      srv.start();
    } catch (const std::exception& e) {
      spdlog::error("net.listen_failed host={} port={} error={}", ctx.edge.host,
                    ctx.edge.port, e.what());
      stop_actors();
      return 1;
    }
    if (cfg.demo) {
      demo = system.spawn(tickgate::demo_feed_actor, ctx.bus, cfg.demo_feed());
      caf::anon_send(demo, tickgate::register_atom_v, ctx.inspector);
    }
    // The node actor: this node's cluster membership, published on the
    // cluster port (TLS when configured). It starts joining once told the
    // address it was published at.
    cluster_cfg.self.http_port = srv.port();
    {
      // Only the node actor holds the connector: a handle to the middleman's
      // (detached) actor kept in main would outlive the actor system, whose
      // destructor then waits for that actor forever.
      auto node_cfg = cluster_cfg;
      node_cfg.connector = cluster_cfg.tls ? system.openssl_manager().actor_handle()
                                           : system.middleman().actor_handle();
      ctx.cluster = system.spawn(tickgate::node_actor, std::move(node_cfg));
    }
    caf::send_as(ctx.inspector, ctx.cluster, tickgate::register_atom_v, ctx.inspector);
    for (auto& f : feeds.all)
      if (auto peers = std::dynamic_pointer_cast<tickgate::peer_feed>(f)) {
        caf::send_as(ctx.inspector, peers->link(), tickgate::use_atom_v, ctx.router);
        caf::send_as(ctx.inspector, ctx.cluster, tickgate::use_atom_v, peers->link());
      }
    uint16_t cluster_port = 0;
    if (cluster_cfg.enabled) {
      auto host = cfg.cluster.host.c_str();
      auto bound = cluster_cfg.tls
                     ? caf::openssl::publish(ctx.cluster, cfg.cluster.port, host, true)
                     : system.middleman().publish(ctx.cluster, cfg.cluster.port, host, true);
      if (!bound) {
        spdlog::error("node.listen_failed host={} port={} error={}", cfg.cluster.host,
                      cfg.cluster.port, system.render(bound.error()));
        caf::send_as(ctx.inspector, ctx.cluster, tickgate::stop_atom_v);
        srv.shutdown(std::chrono::milliseconds{0});
        stop_actors();
        return 1;
      }
      cluster_port = *bound;
      caf::send_as(ctx.inspector, ctx.cluster, tickgate::use_atom_v,
                     cfg.cluster.advertise.empty()
                       ? cfg.cluster.host + ":" + std::to_string(cluster_port)
                       : cfg.cluster.advertise);
    }
    // tickgatectl: the inspector, published through CAF's middleman.
    auto admin = system.middleman().publish(ctx.inspector, cfg.admin_port,
                                            cfg.admin_host.c_str(), true);
    if (!admin) {
      spdlog::error("admin.listen_failed host={} port={} error={}", cfg.admin_host,
                    cfg.admin_port, system.render(admin.error()));
      srv.shutdown(std::chrono::milliseconds{0});
      stop_actors();
      return 1;
    }
    uint16_t admin_port = *admin;
    std::string node_json;
    tickgate::json_writer node_facts{node_json};
    node_facts.begin_object()
      .field("id", ctx.node.node_id)
      .field("version", version)
      .field("mode", ctx.node.mode)
      .field("ws_port", srv.port())
      .field("admin_port", admin_port);
    // Each upstream feed's endpoint, as "redis":"127.0.0.1:6379".
    for (auto& f : feeds.all)
      if (auto ep = f->endpoint(); !ep.empty())
        node_facts.field(f->name(), ep);
    node_facts.end_object();
    caf::anon_send(ctx.inspector, tickgate::use_atom_v, ctx.router, ctx.bus, node_json);
    print_banner(ctx.node, ctx.edge, srv.port(), cfg.demo);
    std::printf("  admin      tickgatectl --node %s:%u info%s\n", cfg.admin_host.c_str(),
                admin_port, cfg.admin_secret.empty() ? "" : "  (--secret required)");
    if (cluster_port != 0)
      std::printf("  cluster    %s on %s:%u%s, seeds: %s\n", cfg.cluster.name.c_str(),
                  cfg.cluster.host.c_str(), cluster_port, cfg.cluster.tls() ? " (TLS)" : "",
                  cfg.cluster.seeds.empty() ? "none" : fmt::format("{}", fmt::join(cfg.cluster.seeds, ",")).c_str());
    std::fflush(stdout);
    spdlog::info("node.start node={} port={} io_threads={} mode={} demo={}",
                 ctx.node.node_id, srv.port(), ctx.edge.io_threads,
                 ctx.node.mode, cfg.demo);
    std::promise<int> stop;
    boost::asio::signal_set signals{srv.io_context(), SIGINT, SIGTERM};
    signals.async_wait([&stop](boost::system::error_code ec, int sig) {
      if (!ec)
        stop.set_value(sig);
    });
    // Written only once SIGTERM is handled, so a script that reacts to the
    // file can stop the node gracefully.
    if (!cfg.ready_file.empty()) {
      std::ofstream out{cfg.ready_file + ".tmp"};
      std::string line;
      tickgate::json_writer{line}
        .begin_object()
        .field("port", srv.port())
        .field("admin_port", admin_port)
        .field("cluster_port", cluster_port)
        .field("pid", getpid())
        .end_object();
      out << line << '\n';
      out.close();
      std::rename((cfg.ready_file + ".tmp").c_str(), cfg.ready_file.c_str());
    }

    boost::asio::steady_timer stats_timer{srv.io_context()};
    schedule_stats(stats_timer, cfg.stats_interval, ctx.node);

    auto sig = stop.get_future().get();
    spdlog::info("node.stopping signal={} clients={}", sig,
                 tickgate::node_metrics().conn_open.load());
    stats_timer.cancel();
    if (cluster_port != 0) {
      // A graceful leave: members mark this node leaving, then remove it
      // when its link closes, without a failure alarm.
      caf::scoped_actor leaver{system};
      leaver->request(ctx.cluster, std::chrono::seconds(2), tickgate::leave_atom_v, true)
        .receive([](bool) {}, [](caf::error&) {});
    }
    srv.shutdown(std::chrono::duration_cast<std::chrono::milliseconds>(
      cfg.shutdown_grace));
    system.middleman().unpublish(ctx.inspector, admin_port);
    stop_actors();
    system.await_all_actors_done();
  }
  log_stats_line(ctx.node);
  spdlog::info("node.stopped");
  return rc;
}
