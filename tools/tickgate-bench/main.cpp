// tickgate-bench: a load generator for tickgate and for gateways that speak
// its action protocol. Scenarios:
//   fanout  1 topic, --clients subscribers, --rate publishes/s
//   wide    --topics topics, --clients x --per-client topics each, --rate spread over topics
//   idle    --clients subscribed connections, no traffic; --server-pid gives RSS per connection
//   churn   connect -> subscribe -> first event -> close, --concurrency loops at once
//   resume  --clients steady subscribers plus --resumers clients that all drop
//           at once and, after missing about --replay events each, reconnect
//           at once with `since` (native protocol): time until every resumer
//           is live again, whether each replay was complete, and the steady
//           clients' latency before and during the storm
// Reports delivered messages/s, loss from per-topic counters ("n" in each
// payload), latency from the publisher's timestamp ("P") to receipt
// (p50/p90/p99/p99.9/max), connect errors, connects/s, and the CPU of the
// generator (and of each --server-pid) so a saturated side is visible. Prints a
// table and one JSON line. With --url given more than once (a cluster: one
// URL per node) the clients are spread round-robin over the nodes, each
// --server-pid is charged with its own node's deliveries, and the relay
// frames the nodes sent (tickgate_cluster_relayed_total{direction="out"} on
// each node's /metrics) are reported per event published.

#include <algorithm>
#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <sys/resource.h>
#include <unistd.h>

#include "tools/tickgate-bench/nodes.hpp"
#include "tools/tickgate-bench/publisher.hpp"
#include "tools/tickgate-bench/receipt.hpp"
#include "tools/tickgate-bench/ws_conn.hpp"

namespace {

using namespace tickgate::bench;
using clock_type = std::chrono::steady_clock;

struct options {
  std::string scenario;
  std::vector<std::string> urls; // one per node; default ws://127.0.0.1:8080/v1
  std::string protocol = "native"; // native | action
  size_t clients = 1000;
  size_t topics = 1;
  size_t per_client = 1;
  double rate = 10000;
  double duration = 10;
  double warmup = 1;
  size_t threads = 2;
  size_t concurrency = 100;
  std::string redis;
  std::string http; // http://host:port; default: the node of --url
  std::string kafka; // bootstrap servers: publish through Kafka
  std::string kafka_topic = "price.updates";
  std::vector<pid_t> server_pids; // the i-th is the i-th URL's node
  size_t pad = 0;
  size_t resumers = 5000;
  size_t replay = 100;
  std::string topic_prefix = "bench."; // native topics: <prefix><i>
};

// Per-thread counters; merged at the end (no sharing while running).
struct thread_stats {
  uint64_t received = 0;      // events while measuring
  std::vector<uint64_t> received_by_node; // the same, per --url
  uint64_t gaps = 0;          // missing counters between two received ones
  uint64_t reordered = 0;     // a counter not above the last one seen
  uint64_t cycles = 0;        // churn: connect..first event..close
  latency_histogram latency;
  latency_histogram storm_latency; // resume: steady clients during the storm
};

// resume: one client that drops and comes back with `since`. Touched only
// on its connection's thread until the run ends.
struct resumer_state {
  size_t topic = 0;
  std::string epoch;
  uint64_t last_seq = 0;  // the last event seen
  uint64_t target = 0;    // the ack's position: live again once this arrived
  bool acked = false;
  bool live = false;
  bool recovered = false;
  uint64_t replayed = 0;
  uint64_t gaps = 0;      // seqs skipped after resuming
  uint64_t repeats = 0;   // seqs seen twice
  double live_after_s = 0;
};

// The seq and epoch of a native event or of an ack's first position.
uint64_t field_u64(std::string_view frame, std::string_view key, size_t from = 0) {
  auto at = frame.find(key, from);
  if (at == std::string_view::npos)
    return 0;
  return std::strtoull(frame.data() + at + key.size(), nullptr, 10);
}

std::string field_str(std::string_view frame, std::string_view key, size_t from = 0) {
  auto at = frame.find(key, from);
  if (at == std::string_view::npos)
    return {};
  at += key.size();
  auto end = frame.find('"', at);
  return std::string{frame.substr(at, end - at)};
}

struct client_state {
  std::vector<uint64_t> last_n; // per topic index
  size_t node = 0;              // index into --url
  bool subscribed = false;
  clock_type::time_point started;
};

std::atomic<bool> measuring{false};
std::atomic<bool> storm{false};
std::atomic<uint64_t> resumers_live{0};
std::atomic<bool> running{true};
std::atomic<uint64_t> subscribed{0};
std::atomic<uint64_t> connect_errors{0};
std::atomic<uint64_t> connects{0};

double cpu_seconds_self() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec)
         + static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

double cpu_seconds_of(pid_t pid) {
  if (pid <= 0)
    return 0;
  std::ifstream in{"/proc/" + std::to_string(pid) + "/stat"};
  std::string content{std::istreambuf_iterator<char>{in}, {}};
  auto close = content.rfind(')');
  if (close == std::string::npos)
    return 0;
  std::istringstream rest{content.substr(close + 2)};
  std::string field;
  double utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14)
      utime = std::stod(field);
    if (i == 15)
      stime = std::stod(field);
  }
  return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

int64_t rss_kib_of(pid_t pid) {
  if (pid <= 0)
    return 0;
  std::ifstream in{"/proc/" + std::to_string(pid) + "/status"};
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0)
      return std::strtoll(line.c_str() + 6, nullptr, 10);
  return 0;
}

std::string topic_name(const options& o, size_t i) {
  if (!o.kafka.empty()) // the default Kafka route: price:{symbol}
    return "price:K" + std::to_string(i);
  return o.protocol == "action" ? "B" + std::to_string(i) : o.topic_prefix + std::to_string(i);
}

// What the publisher publishes to for topic i (for Kafka: the record's symbol).
std::string channel_name(const options& o, size_t i) {
  if (!o.kafka.empty())
    return "K" + std::to_string(i);
  return o.protocol == "action" ? "channel:trade:B" + std::to_string(i) : topic_name(o, i);
}

std::string subscribe_frame(const options& o, const std::vector<size_t>& topics) {
  std::string names;
  for (auto t : topics)
    names += (names.empty() ? "\"" : ",\"") + topic_name(o, t) + "\"";
  if (o.protocol == "action")
    return R"({"action":"subscribe","symbols":[)" + names + "]}";
  return R"({"op":"subscribe","id":1,"topics":[)" + names + "]}";
}

bool is_ack(std::string_view frame) {
  return frame.find(R"("type":"ack")") != std::string_view::npos
         || frame.find(R"("type":"success")") != std::string_view::npos
         || frame.find(R"("type":"subscribed")") != std::string_view::npos;
}

// GET /metrics of a node and the value of `series`; nothing if the node
// does not answer within a second or has no such series (not a tickgate
// node, or one without a cluster).
std::optional<double> scrape_metric(const endpoint_info& ep, std::string_view series) {
  namespace http = boost::beast::http;
  boost::asio::io_context ioc;
  boost::beast::tcp_stream stream{ioc};
  boost::beast::error_code ec;
  auto address = boost::asio::ip::make_address(ep.host, ec);
  if (ec)
    return std::nullopt;
  http::request<http::empty_body> req{http::verb::get, "/metrics", 11};
  req.set(http::field::host, ep.host);
  boost::beast::flat_buffer buf;
  http::response<http::string_body> res;
  bool ok = false;
  stream.expires_after(std::chrono::seconds(1)); // covers all three steps
  stream.async_connect({address, ep.port}, [&](boost::beast::error_code e) {
    if (e)
      return;
    http::async_write(stream, req, [&](boost::beast::error_code e, size_t) {
      if (e)
        return;
      http::async_read(stream, buf, res, [&](boost::beast::error_code e, size_t) { ok = !e; });
    });
  });
  ioc.run();
  if (!ok || res.result() != http::status::ok)
    return std::nullopt;
  return metric_sample(res.body(), series);
}

// The relay frames sent by all `nodes` (each host:port once); nothing if
// any of them has no such counter.
std::optional<double> relayed_out(const std::vector<endpoint_info>& nodes) {
  double sum = 0;
  for (auto& n : nodes) {
    auto v = scrape_metric(n, R"(tickgate_cluster_relayed_total{direction="out"})");
    if (!v)
      return std::nullopt;
    sum += *v;
  }
  return sum;
}

} // namespace

int main(int argc, char** argv) {
  options o;
  CLI::App app{"tickgate-bench: load generator (fanout, wide, idle, churn, resume)"};
  app.add_option("scenario", o.scenario, "fanout | wide | idle | churn | resume")->required()
    ->check(CLI::IsMember({"fanout", "wide", "idle", "churn", "resume"}));
  app.add_option("--url", o.urls, "WebSocket URL of the gateway; repeat for the nodes of a cluster (clients round-robin)")
    ->allow_extra_args(false);
  app.add_option("--protocol", o.protocol, "native or action")->check(CLI::IsMember({"native", "action"}));
  app.add_option("--clients", o.clients, "connections");
  app.add_option("--topics", o.topics, "topics (wide, idle)");
  app.add_option("--per-client", o.per_client, "topics per client (wide)");
  app.add_option("--rate", o.rate, "publishes per second (all topics)");
  app.add_option("--duration", o.duration, "measured seconds");
  app.add_option("--warmup", o.warmup, "seconds of traffic before measuring");
  app.add_option("--threads", o.threads, "generator threads");
  app.add_option("--concurrency", o.concurrency, "churn loops at once");
  app.add_option("--redis", o.redis, "publish through Redis (redis://host:port)");
  app.add_option("--kafka", o.kafka, "publish MoonX price updates to Kafka (bootstrap host:port[,...]); subscribers follow price:K<i>");
  app.add_option("--kafka-topic", o.kafka_topic, "the Kafka topic for --kafka");
  app.add_option("--http", o.http, "publish through POST /api/publish at http://host:port (default: the --url node)");
  app.add_option("--server-pid", o.server_pids,
                 "gateway process: CPU and RSS are reported; repeat, in --url order, for each node")
    ->allow_extra_args(false);
  app.add_option("--topic-prefix", o.topic_prefix, "native topics are <prefix><i> (e.g. to pick a topic's home node)");
  app.add_option("--pad", o.pad, "extra payload bytes");
  app.add_option("--resumers", o.resumers, "resume: clients that drop and resume at once");
  app.add_option("--replay", o.replay, "resume: events each resumer misses");
  CLI11_PARSE(app, argc, argv);

  if (o.urls.empty())
    o.urls.push_back("ws://127.0.0.1:8080/v1");
  std::vector<endpoint_info> eps(o.urls.size());
  std::vector<boost::asio::ip::tcp::endpoint> targets;
  for (size_t i = 0; i < o.urls.size(); ++i) {
    if (!parse_ws_url(o.urls[i], eps[i])) {
      std::fprintf(stderr, "tickgate-bench: bad --url %s\n", o.urls[i].c_str());
      return 2;
    }
    targets.emplace_back(boost::asio::ip::make_address(eps[i].host), eps[i].port);
  }
  if (o.scenario == "resume" && o.urls.size() > 1) {
    std::fprintf(stderr, "tickgate-bench: resume drives one node (one --url)\n");
    return 2;
  }
  const auto& ep = eps.front();
  const auto& target = targets.front();
  std::string urls_joined;
  for (auto& u : o.urls)
    urls_joined += (urls_joined.empty() ? "" : " ") + u;
  const pid_t first_pid = o.server_pids.empty() ? 0 : o.server_pids.front();
  if (o.scenario == "fanout")
    o.topics = 1, o.per_client = 1;
  if (o.scenario == "churn")
    o.topics = 1, o.per_client = 1;
  o.topics = std::max<size_t>(1, o.topics);
  o.per_client = std::clamp<size_t>(o.per_client, 1, o.topics);
  o.threads = std::max<size_t>(1, o.threads);

  // One io_context per thread; each connection lives on one of them.
  std::vector<std::unique_ptr<boost::asio::io_context>> iocs;
  std::vector<thread_stats> stats(o.threads);
  for (auto& st : stats)
    st.received_by_node.assign(o.urls.size(), 0);
  for (size_t i = 0; i < o.threads; ++i)
    iocs.push_back(std::make_unique<boost::asio::io_context>(1));
  std::vector<std::thread> threads;
  std::vector<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guards;
  for (auto& ioc : iocs)
    guards.emplace_back(ioc->get_executor());
  for (auto& ioc : iocs)
    threads.emplace_back([&ioc] { ioc->run(); });

  std::vector<int64_t> rss_before;
  for (auto pid : o.server_pids)
    rss_before.push_back(rss_kib_of(pid));
  std::vector<std::shared_ptr<ws_conn>> conns;
  std::vector<std::unique_ptr<client_state>> states;
  auto on_event = [&](thread_stats& st, client_state& cs, std::string_view frame) {
    auto [k, n, p] = read_event(frame);
    if (p < 0)
      return false;
    if (k >= 0 && static_cast<size_t>(k) < cs.last_n.size() && n > 0) {
      auto& last = cs.last_n[k];
      if (last != 0 && static_cast<uint64_t>(n) > last + 1)
        st.gaps += static_cast<uint64_t>(n) - last - 1;
      else if (last != 0 && static_cast<uint64_t>(n) <= last)
        ++st.reordered;
      last = std::max(last, static_cast<uint64_t>(n));
    }
    if (measuring.load(std::memory_order_relaxed)) {
      ++st.received;
      ++st.received_by_node[cs.node];
      auto us = static_cast<uint64_t>(std::max<int64_t>(now_us() - p, 0));
      (storm.load(std::memory_order_relaxed) ? st.storm_latency : st.latency).add(us);
    }
    return true;
  };

  // Connects one client with its topics (not churn).
  auto connect_client = [&](size_t index) {
    auto t = index % o.threads;
    std::vector<size_t> topics;
    for (size_t j = 0; j < o.per_client; ++j)
      topics.push_back((index * o.per_client + j) % o.topics);
    auto cs = std::make_unique<client_state>();
    cs->last_n.assign(o.topics, 0);
    cs->node = node_of_client(index, eps.size());
    const auto& node_target = targets[cs->node];
    const auto& node_ep = eps[cs->node];
    auto* csp = cs.get();
    auto* st = &stats[t];
    auto frame = subscribe_frame(o, topics);
    ws_conn::handlers h;
    h.on_open = [frame](ws_conn& c) {
      ++connects;
      c.send_text(frame);
    };
    h.on_text = [csp, st, &on_event](ws_conn&, std::string_view f) {
      if (!csp->subscribed && is_ack(f)) {
        csp->subscribed = true;
        ++subscribed;
        return;
      }
      on_event(*st, *csp, f);
    };
    h.on_close = [csp](ws_conn&, bool) {
      if (!csp->subscribed)
        ++connect_errors;
    };
    auto c = std::make_shared<ws_conn>(*iocs[t], std::move(h));
    c->user = t; // its thread: every later call must run there
    boost::asio::post(*iocs[t], [c, node_target, node_ep] {
      c->start(node_target, node_ep.host, node_ep.path);
    });
    conns.push_back(c);
    states.push_back(std::move(cs));
  };

  auto run_started = clock_type::now();
  if (o.scenario != "churn") {
    // Connect in waves so the listen backlog is not flooded.
    for (size_t i = 0; i < o.clients; ++i) {
      connect_client(i);
      if (i % 500 == 499)
        while (subscribed.load() + connect_errors.load() + 250 < i + 1
               && clock_type::now() - run_started < std::chrono::seconds(120))
          std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    while (subscribed.load() + connect_errors.load() < o.clients
           && clock_type::now() - run_started < std::chrono::seconds(120))
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  double connect_secs = std::chrono::duration<double>(clock_type::now() - run_started).count();

  // The publisher (not for idle).
  std::unique_ptr<publisher> pub;
  if (o.scenario != "idle") {
    publisher::settings ps;
    ps.redis_url = o.redis;
    ps.kafka_brokers = o.kafka;
    ps.kafka_topic = o.kafka_topic;
    if (o.redis.empty() && o.kafka.empty()) {
      std::string h = o.http.empty() ? "http://" + ep.host + ":" + std::to_string(ep.port) : o.http;
      if (h.rfind("http://", 0) == 0)
        h = h.substr(7);
      auto colon = h.rfind(':');
      ps.http_host = h.substr(0, colon);
      ps.http_port = static_cast<uint16_t>(std::atoi(h.c_str() + colon + 1));
    }
    for (size_t i = 0; i < o.topics; ++i)
      ps.channels.push_back(channel_name(o, i));
    ps.rate = o.rate;
    ps.pad_bytes = o.pad;
    pub = std::make_unique<publisher>(ps);
    std::string err;
    if (!pub->start(err)) {
      std::fprintf(stderr, "tickgate-bench: publisher: %s\n", err.c_str());
      return 1;
    }
  }

  // Churn: loops of connect -> subscribe -> first event -> close.
  std::vector<std::unique_ptr<client_state>> churn_states;
  std::function<void(size_t)> churn_loop = [&](size_t slot) {
    if (!running)
      return;
    auto t = slot % o.threads;
    auto* st = &stats[t];
    auto* cs = churn_states[slot].get();
    cs->subscribed = false;
    cs->started = clock_type::now();
    auto frame = subscribe_frame(o, {0});
    ws_conn::handlers h;
    h.on_open = [frame](ws_conn& c) {
      ++connects;
      c.send_text(frame);
    };
    h.on_text = [cs, st](ws_conn& c, std::string_view f) {
      if (!cs->subscribed) {
        cs->subscribed = is_ack(f);
        return;
      }
      if (read_event(f).p >= 0) {
        if (measuring)
          ++st->cycles;
        cs->subscribed = false;
        c.close();
      }
    };
    h.on_close = [&, slot, cs](ws_conn&, bool) {
      if (!cs->subscribed && clock_type::now() - cs->started > std::chrono::seconds(5))
        ++connect_errors;
      boost::asio::post(*iocs[slot % o.threads], [&, slot] { churn_loop(slot); });
    };
    auto c = std::make_shared<ws_conn>(*iocs[t], std::move(h), 4096);
    auto node = node_of_client(slot, eps.size());
    c->start(targets[node], eps[node].host, eps[node].path);
  };
  if (o.scenario == "churn") {
    for (size_t i = 0; i < o.concurrency; ++i) {
      churn_states.push_back(std::make_unique<client_state>());
      boost::asio::post(*iocs[i % o.threads], [&, i] { churn_loop(i); });
    }
  }

  // Resume: the resumers subscribe like any client first, one topic each.
  std::vector<std::unique_ptr<resumer_state>> resumer_states;
  std::vector<std::shared_ptr<ws_conn>> resumer_conns;
  std::atomic<uint64_t> resumers_acked{0};
  clock_type::time_point storm_started;
  auto start_resumer = [&](size_t i, bool resume) {
    auto t = i % o.threads;
    auto* rs = resumer_states[i].get();
    auto topic = topic_name(o, rs->topic);
    std::string frame = R"({"op":"subscribe","id":1,"topics":[")" + topic + "\"]";
    if (resume)
      frame += R"(,"since":{")" + topic + R"(":{"epoch":")" + rs->epoch + R"(","seq":)"
               + std::to_string(rs->last_seq) + "}}";
    frame += "}";
    rs->acked = false;
    auto mark_live = [rs, &storm_started] {
      rs->live = true;
      rs->live_after_s = std::chrono::duration<double>(clock_type::now() - storm_started).count();
      ++resumers_live;
    };
    ws_conn::handlers h;
    h.on_open = [frame](ws_conn& c) { c.send_text(frame); };
    h.on_text = [rs, resume, mark_live, &resumers_acked](ws_conn&, std::string_view f) {
      if (!rs->acked) {
        if (!is_ack(f))
          return;
        rs->acked = true;
        auto pos = f.find(R"("positions")");
        if (pos == std::string_view::npos)
          return; // a node without positions: nothing to resume from
        rs->epoch = field_str(f, R"("epoch":")", pos);
        rs->target = field_u64(f, R"("seq":)", pos);
        if (!resume) {
          rs->last_seq = rs->target;
          ++resumers_acked;
          return;
        }
        auto rec = f.find(R"("recovered":{)");
        rs->recovered = rec != std::string_view::npos
                        && f.substr(rec, f.find('}', rec) - rec).find("true") != std::string_view::npos;
        if (!rs->recovered || rs->target <= rs->last_seq)
          mark_live();
        return;
      }
      auto seq = field_u64(f, R"("seq":)");
      if (seq == 0)
        return;
      if (seq <= rs->last_seq) {
        ++rs->repeats;
        return;
      }
      if (resume && rs->recovered && seq > rs->last_seq + 1)
        rs->gaps += seq - rs->last_seq - 1;
      rs->last_seq = seq;
      if (resume && seq <= rs->target)
        ++rs->replayed;
      if (resume && !rs->live && seq >= rs->target)
        mark_live();
    };
    h.on_close = [](ws_conn&, bool) {};
    auto c = std::make_shared<ws_conn>(*iocs[t], std::move(h), 16 * 1024);
    c->user = t;
    boost::asio::post(*iocs[t], [c, target, ep] { c->start(target, ep.host, ep.path); });
    resumer_conns[i] = c;
  };
  if (o.scenario == "resume") {
    for (size_t i = 0; i < o.resumers; ++i) {
      resumer_states.push_back(std::make_unique<resumer_state>());
      resumer_states.back()->topic = i % o.topics;
      resumer_conns.emplace_back();
      start_resumer(i, false);
      if (i % 500 == 499)
        while (resumers_acked.load() + 250 < i + 1
               && clock_type::now() - run_started < std::chrono::seconds(180))
          std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    while (resumers_acked.load() < o.resumers
           && clock_type::now() - run_started < std::chrono::seconds(180))
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }

  std::this_thread::sleep_for(std::chrono::duration<double>(o.warmup));
  std::vector<int64_t> rss_after;
  for (auto pid : o.server_pids)
    rss_after.push_back(rss_kib_of(pid));
  // The nodes whose relay counters are read: every --url's and the one
  // publishes go to, each once.
  std::vector<endpoint_info> metric_nodes;
  auto add_metric_node = [&](const endpoint_info& e) {
    for (auto& m : metric_nodes)
      if (m.host == e.host && m.port == e.port)
        return;
    metric_nodes.push_back(e);
  };
  for (auto& e : eps)
    add_metric_node(e);
  if (pub && o.redis.empty() && o.kafka.empty() && !o.http.empty()) {
    endpoint_info h;
    if (parse_ws_url(o.http.rfind("http://", 0) == 0 ? o.http.substr(7) : o.http, h))
      add_metric_node(h);
  }
  auto relayed0 = pub ? relayed_out(metric_nodes) : std::nullopt;
  uint64_t sent_before = pub ? pub->sent() : 0;
  std::vector<double> server_cpu0;
  for (auto pid : o.server_pids)
    server_cpu0.push_back(cpu_seconds_of(pid));
  auto self_cpu0 = cpu_seconds_self();
  auto t0 = clock_type::now();
  measuring = true;
  std::this_thread::sleep_for(std::chrono::duration<double>(o.duration));
  double storm_secs = 0;
  if (o.scenario == "resume") {
    // Every resumer drops at once, misses about --replay events of its
    // topic, and comes back at once with `since`.
    for (auto& c : resumer_conns)
      boost::asio::post(*iocs[c->user], [c] { c->close(); });
    std::this_thread::sleep_for(std::chrono::duration<double>(
      static_cast<double>(o.replay * o.topics) / std::max(o.rate, 1.0)));
    storm_started = clock_type::now();
    storm = true;
    for (size_t i = 0; i < o.resumers; ++i) {
      auto t = i % o.threads;
      boost::asio::post(*iocs[t], [&, i] { start_resumer(i, true); });
    }
    while (resumers_live.load() < o.resumers
           && clock_type::now() - storm_started < std::chrono::seconds(60))
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    storm_secs = std::chrono::duration<double>(clock_type::now() - storm_started).count();
    std::this_thread::sleep_for(std::chrono::milliseconds(200)); // deliveries right after
    storm = false;
  }
  uint64_t sent_window = pub ? pub->sent() - sent_before : 0;
  if (pub)
    pub->stop();
  // Deliveries are counted until the tail below has drained, but they are
  // those of the publish window: the rate is over that window.
  auto publish_secs = std::chrono::duration<double>(clock_type::now() - t0).count();
  std::this_thread::sleep_for(std::chrono::milliseconds(o.scenario == "idle" ? 0 : 500)); // in-flight deliveries
  measuring = false;
  auto secs = std::chrono::duration<double>(clock_type::now() - t0).count();
  std::vector<double> server_cpus;
  for (size_t i = 0; i < o.server_pids.size(); ++i)
    server_cpus.push_back(cpu_seconds_of(o.server_pids[i]) - server_cpu0[i]);
  auto relayed1 = relayed0 ? relayed_out(metric_nodes) : std::nullopt;
  auto self_cpu = cpu_seconds_self() - self_cpu0;
  running = false;

  // Stop: close connections on their threads, then end the loops.
  for (auto& c : conns)
    boost::asio::post(*iocs[c->user], [c] { c->close(); });
  for (auto& c : resumer_conns)
    boost::asio::post(*iocs[c->user], [c] { c->close(); });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  for (auto& g : guards)
    g.reset();
  for (auto& ioc : iocs)
    ioc->stop();
  for (auto& th : threads)
    th.join();

  thread_stats all;
  for (auto& st : stats) {
    all.received += st.received;
    all.gaps += st.gaps;
    all.reordered += st.reordered;
    all.cycles += st.cycles;
    all.received_by_node.resize(o.urls.size());
    for (size_t i = 0; i < o.urls.size(); ++i)
      all.received_by_node[i] += st.received_by_node[i];
    all.latency.merge(st.latency);
    all.storm_latency.merge(st.storm_latency);
  }
  // resume: how the storm went (read after the loops stopped).
  uint64_t recovered = 0, replayed = 0, resume_gaps = 0, resume_repeats = 0;
  std::vector<double> live_after;
  for (auto& rs : resumer_states) {
    recovered += rs->recovered ? 1 : 0;
    replayed += rs->replayed;
    resume_gaps += rs->gaps;
    resume_repeats += rs->repeats;
    if (rs->live)
      live_after.push_back(rs->live_after_s);
  }
  std::sort(live_after.begin(), live_after.end());
  auto live_q = [&](double q) {
    return live_after.empty() ? 0.0 : live_after[static_cast<size_t>(q * static_cast<double>(live_after.size() - 1))];
  };
  auto pct = [&](double q) { return all.latency.quantile_ms(q); };
  double delivered = static_cast<double>(all.received) / (pub ? publish_secs : secs);
  // Per --server-pid: its CPU over its own node's deliveries (see
  // deliveries_of_server); the figures without an index are the first's.
  struct server_figures {
    double cores = 0;
    uint64_t deliveries = 0;
    double us_per_delivery = 0;
    int64_t rss_per_conn = 0;
  };
  std::vector<server_figures> servers;
  for (size_t i = 0; i < o.server_pids.size(); ++i) {
    server_figures f;
    f.cores = server_cpus[i] / secs;
    f.deliveries = deliveries_of_server(i, all.received_by_node, all.received);
    f.us_per_delivery = f.deliveries ? server_cpus[i] * 1e6 / static_cast<double>(f.deliveries) : 0;
    size_t its_clients = i < o.urls.size() ? (o.clients + o.urls.size() - 1 - i) / o.urls.size() : 0;
    f.rss_per_conn = its_clients ? (rss_after[i] - rss_before[i]) * 1024 / static_cast<int64_t>(its_clients) : 0;
    servers.push_back(f);
  }
  double server_cpu = server_cpus.empty() ? 0 : server_cpus.front();
  double per_delivery_us = servers.empty() ? 0 : servers.front().us_per_delivery;
  int64_t rss_per_conn = servers.empty() ? 0 : servers.front().rss_per_conn;
  int64_t rss_before0 = rss_before.empty() ? 0 : rss_before.front();
  int64_t rss_after0 = rss_after.empty() ? 0 : rss_after.front();
  double relayed = relayed0 && relayed1 ? *relayed1 - *relayed0 : -1;
  double relayed_per_event = relayed >= 0 && sent_window ? relayed / static_cast<double>(sent_window) : -1;

  std::printf("tickgate-bench %s  %s  protocol=%s clients=%zu topics=%zu per_client=%zu rate=%.0f/s threads=%zu\n",
              o.scenario.c_str(), urls_joined.c_str(), o.protocol.c_str(), o.clients, o.topics,
              o.per_client, o.rate, o.threads);
  std::printf("  connected        %" PRIu64 " (errors %" PRIu64 ") in %.2f s\n", subscribed.load(),
              connect_errors.load(), connect_secs);
  if (o.scenario == "churn")
    std::printf("  churn            %.0f connect+subscribe+first-event+close per second\n",
                static_cast<double>(all.cycles) / secs);
  if (o.scenario != "idle" && o.scenario != "churn") {
    std::printf("  published        %.0f msg/s\n", static_cast<double>(sent_window) / publish_secs);
    std::printf("  delivered        %.0f msg/s  (%" PRIu64 " in %.2f s)\n", delivered, all.received, pub ? publish_secs : secs);
    std::printf("  loss             %" PRIu64 " (seq gaps), %" PRIu64 " out of order\n", all.gaps, all.reordered);
    std::printf("  latency ms       p50 %.2f  p90 %.2f  p99 %.2f  p99.9 %.2f  max %.2f\n", pct(0.5),
                pct(0.9), pct(0.99), pct(0.999),
                all.latency.max_ms());
  }
  if (o.scenario == "resume") {
    std::printf("  resume storm     %zu resumers: %zu live again, %" PRIu64 " recovered, %" PRIu64
                " events replayed (%.0f each), %" PRIu64 " gaps, %" PRIu64 " repeats\n",
                o.resumers, live_after.size(), recovered, replayed,
                o.resumers ? static_cast<double>(replayed) / static_cast<double>(o.resumers) : 0.0,
                resume_gaps, resume_repeats);
    std::printf("  live again after s  p50 %.3f  p99 %.3f  all %.3f (storm window %.2f s)\n",
                live_q(0.5), live_q(0.99), live_q(1.0), storm_secs);
    std::printf("  steady clients   p99 %.2f ms before, %.2f ms during the storm (p50 %.2f / %.2f)\n",
                pct(0.99), all.storm_latency.quantile_ms(0.99), pct(0.5),
                all.storm_latency.quantile_ms(0.5));
  }
  std::printf("  generator cpu    %.2f cores\n", self_cpu / secs);
  if (first_pid > 0 && o.server_pids.size() == 1) {
    std::printf("  server cpu       %.2f cores", server_cpu / secs);
    if (all.received)
      std::printf(", %.3f CPU-us per delivery", per_delivery_us);
    std::printf("\n  server rss       %" PRId64 " KiB before, %" PRId64 " KiB after connect: %" PRId64 " B per connection\n",
                rss_before0, rss_after0, rss_per_conn);
  }
  if (o.server_pids.size() > 1) {
    for (size_t i = 0; i < servers.size(); ++i) {
      std::printf("  server %zu cpu     %.2f cores (pid %d)", i + 1, servers[i].cores,
                  static_cast<int>(o.server_pids[i]));
      if (servers[i].deliveries)
        std::printf(", %.3f CPU-us per delivery over %" PRIu64 " (%s)", servers[i].us_per_delivery,
                    servers[i].deliveries, i < o.urls.size() ? "its clients'" : "all");
      std::printf("\n");
    }
  }
  if (o.urls.size() > 1) {
    std::printf("  delivered by node");
    for (auto n : all.received_by_node)
      std::printf(" %" PRIu64, n);
    std::printf("\n");
  }
  if (relayed >= 0)
    std::printf("  relayed out      %.0f frames, %.3f per event published\n", relayed, relayed_per_event);
  std::printf(
    R"({"scenario":"%s","protocol":"%s","clients":%zu,"topics":%zu,"per_client":%zu,"rate":%.0f,)"
    R"("connected":%)" PRIu64 R"(,"connect_errors":%)" PRIu64 R"(,"published_per_s":%.0f,"delivered_per_s":%.0f,)"
    R"("gaps":%)" PRIu64 R"(,"reordered":%)" PRIu64 R"(,"p50_ms":%.3f,"p90_ms":%.3f,"p99_ms":%.3f,"p999_ms":%.3f,"max_ms":%.3f,)"
    R"("churn_per_s":%.0f,"generator_cores":%.2f,"server_cores":%.2f,"server_cpu_us_per_delivery":%.3f,)"
    R"("server_rss_kib_before":%)" PRId64 R"(,"server_rss_kib_after":%)" PRId64 R"(,"server_rss_bytes_per_conn":%)" PRId64
    R"(,"resumers":%zu,"resumers_live":%zu,"resumers_recovered":%)" PRIu64 R"(,"replayed":%)" PRIu64
    R"(,"resume_gaps":%)" PRIu64 R"(,"resume_repeats":%)" PRIu64
    R"(,"live_again_p50_s":%.3f,"live_again_all_s":%.3f,"storm_p99_ms":%.3f)",
    o.scenario.c_str(), o.protocol.c_str(), o.clients, o.topics, o.per_client, o.rate,
    subscribed.load(), connect_errors.load(), static_cast<double>(sent_window) / publish_secs,
    delivered, all.gaps, all.reordered, pct(0.5), pct(0.9), pct(0.99), pct(0.999),
    all.latency.max_ms(),
    static_cast<double>(all.cycles) / secs, self_cpu / secs,
    first_pid > 0 ? server_cpu / secs : 0.0, per_delivery_us, rss_before0, rss_after0, rss_per_conn,
    o.scenario == "resume" ? o.resumers : size_t{0}, live_after.size(), recovered, replayed,
    resume_gaps, resume_repeats, live_q(0.5), live_q(1.0), all.storm_latency.quantile_ms(0.99));
  // Added fields: per node (--url) deliveries, per --server-pid figures,
  // relay frames over the publish window (-1: not a tickgate cluster).
  std::printf(R"(,"urls":%zu,"delivered_by_node":[)", o.urls.size());
  for (size_t i = 0; i < all.received_by_node.size(); ++i)
    std::printf("%s%" PRIu64, i ? "," : "", all.received_by_node[i]);
  std::printf(R"(],"servers":[)");
  for (size_t i = 0; i < servers.size(); ++i)
    std::printf(R"(%s{"pid":%d,"node":%d,"cores":%.2f,"deliveries":%)" PRIu64
                R"(,"cpu_us_per_delivery":%.3f,"rss_kib_after":%)" PRId64 "}",
                i ? "," : "", static_cast<int>(o.server_pids[i]),
                i < o.urls.size() ? static_cast<int>(i) : -1, servers[i].cores, servers[i].deliveries,
                servers[i].us_per_delivery, rss_after[i]);
  std::printf(R"(],"relayed_out":%.0f,"relayed_out_per_event":%.3f})" "\n", relayed, relayed_per_event);
  return 0;
}
