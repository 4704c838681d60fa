// tickgate-bench: a load generator for tickgate and for gateways that speak
// its action protocol. Scenarios:
//   fanout  1 topic, --clients subscribers, --rate publishes/s
//   wide    --topics topics, --clients x --per-client topics each, --rate spread over topics
//   idle    --clients subscribed connections, no traffic; --server-pid gives RSS per connection
//   churn   connect -> subscribe -> first event -> close, --concurrency loops at once
// Reports delivered messages/s, loss from per-topic counters ("n" in each
// payload), latency from the publisher's timestamp ("P") to receipt
// (p50/p90/p99/p99.9/max), connect errors, connects/s, and the CPU of the
// generator (and of --server-pid) so a saturated side is visible. Prints a
// table and one JSON line.

#include <algorithm>
#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <sys/resource.h>
#include <unistd.h>

#include "tools/tickgate-bench/publisher.hpp"
#include "tools/tickgate-bench/receipt.hpp"
#include "tools/tickgate-bench/ws_conn.hpp"

namespace {

using namespace tickgate::bench;
using clock_type = std::chrono::steady_clock;

struct options {
  std::string scenario;
  std::string url = "ws://127.0.0.1:8080/v1";
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
  pid_t server_pid = 0;
  size_t pad = 0;
};

// Per-thread counters; merged at the end (no sharing while running).
struct thread_stats {
  uint64_t received = 0;      // events while measuring
  uint64_t gaps = 0;          // missing counters between two received ones
  uint64_t reordered = 0;     // a counter not above the last one seen
  uint64_t cycles = 0;        // churn: connect..first event..close
  latency_histogram latency;
};

struct client_state {
  std::vector<uint64_t> last_n; // per topic index
  bool subscribed = false;
  clock_type::time_point started;
};

std::atomic<bool> measuring{false};
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
  return o.protocol == "action" ? "B" + std::to_string(i) : "bench." + std::to_string(i);
}

// What the publisher publishes to for topic i.
std::string channel_name(const options& o, size_t i) {
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

struct endpoint_info {
  std::string host;
  uint16_t port = 0;
  std::string path;
};

bool parse_ws_url(const std::string& url, endpoint_info& out) {
  std::string rest = url;
  if (rest.rfind("ws://", 0) == 0)
    rest = rest.substr(5);
  auto slash = rest.find('/');
  out.path = slash == std::string::npos ? "/" : rest.substr(slash);
  auto hostport = rest.substr(0, slash);
  auto colon = hostport.rfind(':');
  if (colon == std::string::npos)
    return false;
  out.host = hostport.substr(0, colon);
  out.port = static_cast<uint16_t>(std::atoi(hostport.c_str() + colon + 1));
  return out.port != 0;
}

} // namespace

int main(int argc, char** argv) {
  options o;
  CLI::App app{"tickgate-bench: load generator (fanout, wide, idle, churn)"};
  app.add_option("scenario", o.scenario, "fanout | wide | idle | churn")->required()
    ->check(CLI::IsMember({"fanout", "wide", "idle", "churn"}));
  app.add_option("--url", o.url, "WebSocket URL of the gateway");
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
  app.add_option("--http", o.http, "publish through POST /api/publish at http://host:port (default: the --url node)");
  app.add_option("--server-pid", o.server_pid, "gateway process: CPU and RSS are reported");
  app.add_option("--pad", o.pad, "extra payload bytes");
  CLI11_PARSE(app, argc, argv);

  endpoint_info ep;
  if (!parse_ws_url(o.url, ep)) {
    std::fprintf(stderr, "tickgate-bench: bad --url %s\n", o.url.c_str());
    return 2;
  }
  boost::asio::ip::tcp::endpoint target{boost::asio::ip::make_address(ep.host), ep.port};
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
  for (size_t i = 0; i < o.threads; ++i)
    iocs.push_back(std::make_unique<boost::asio::io_context>(1));
  std::vector<std::thread> threads;
  std::vector<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guards;
  for (auto& ioc : iocs)
    guards.emplace_back(ioc->get_executor());
  for (auto& ioc : iocs)
    threads.emplace_back([&ioc] { ioc->run(); });

  auto rss_before = rss_kib_of(o.server_pid);
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
      st.latency.add(static_cast<uint64_t>(std::max<int64_t>(now_us() - p, 0)));
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
    boost::asio::post(*iocs[t], [c, target, ep] { c->start(target, ep.host, ep.path); });
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
    if (o.redis.empty()) {
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
    c->start(target, ep.host, ep.path);
  };
  if (o.scenario == "churn") {
    for (size_t i = 0; i < o.concurrency; ++i) {
      churn_states.push_back(std::make_unique<client_state>());
      boost::asio::post(*iocs[i % o.threads], [&, i] { churn_loop(i); });
    }
  }

  std::this_thread::sleep_for(std::chrono::duration<double>(o.warmup));
  auto rss_after = rss_kib_of(o.server_pid);
  uint64_t sent_before = pub ? pub->sent() : 0;
  auto server_cpu0 = cpu_seconds_of(o.server_pid);
  auto self_cpu0 = cpu_seconds_self();
  auto t0 = clock_type::now();
  measuring = true;
  std::this_thread::sleep_for(std::chrono::duration<double>(o.duration));
  uint64_t sent_window = pub ? pub->sent() - sent_before : 0;
  if (pub)
    pub->stop();
  // Deliveries are counted until the tail below has drained, but they are
  // those of the publish window: the rate is over that window.
  auto publish_secs = std::chrono::duration<double>(clock_type::now() - t0).count();
  std::this_thread::sleep_for(std::chrono::milliseconds(o.scenario == "idle" ? 0 : 500)); // in-flight deliveries
  measuring = false;
  auto secs = std::chrono::duration<double>(clock_type::now() - t0).count();
  auto server_cpu = cpu_seconds_of(o.server_pid) - server_cpu0;
  auto self_cpu = cpu_seconds_self() - self_cpu0;
  running = false;

  // Stop: close connections on their threads, then end the loops.
  for (auto& c : conns)
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
    all.latency.merge(st.latency);
  }
  auto pct = [&](double q) { return all.latency.quantile_ms(q); };
  double delivered = static_cast<double>(all.received) / (pub ? publish_secs : secs);
  double per_delivery_us = all.received ? server_cpu * 1e6 / static_cast<double>(all.received) : 0;
  int64_t rss_per_conn = o.clients ? (rss_after - rss_before) * 1024 / static_cast<int64_t>(o.clients) : 0;

  std::printf("tickgate-bench %s  %s  protocol=%s clients=%zu topics=%zu per_client=%zu rate=%.0f/s threads=%zu\n",
              o.scenario.c_str(), o.url.c_str(), o.protocol.c_str(), o.clients, o.topics,
              o.per_client, o.rate, o.threads);
  std::printf("  connected        %" PRIu64 " (errors %" PRIu64 ") in %.2f s\n", subscribed.load(),
              connect_errors.load(), connect_secs);
  if (o.scenario == "churn")
    std::printf("  churn            %.0f connect+subscribe+first-event+close per second\n",
                static_cast<double>(all.cycles) / secs);
  if (o.scenario != "idle" && o.scenario != "churn") {
    std::printf("  published        %.0f msg/s\n", static_cast<double>(sent_window) / o.duration);
    std::printf("  delivered        %.0f msg/s  (%" PRIu64 " in %.2f s)\n", delivered, all.received, pub ? publish_secs : secs);
    std::printf("  loss             %" PRIu64 " (seq gaps), %" PRIu64 " out of order\n", all.gaps, all.reordered);
    std::printf("  latency ms       p50 %.2f  p90 %.2f  p99 %.2f  p99.9 %.2f  max %.2f\n", pct(0.5),
                pct(0.9), pct(0.99), pct(0.999),
                all.latency.max_ms());
  }
  std::printf("  generator cpu    %.2f cores\n", self_cpu / secs);
  if (o.server_pid > 0) {
    std::printf("  server cpu       %.2f cores", server_cpu / secs);
    if (all.received)
      std::printf(", %.3f CPU-us per delivery", per_delivery_us);
    std::printf("\n  server rss       %" PRId64 " KiB before, %" PRId64 " KiB after connect: %" PRId64 " B per connection\n",
                rss_before, rss_after, rss_per_conn);
  }
  std::printf(
    R"({"scenario":"%s","protocol":"%s","clients":%zu,"topics":%zu,"per_client":%zu,"rate":%.0f,)"
    R"("connected":%)" PRIu64 R"(,"connect_errors":%)" PRIu64 R"(,"published_per_s":%.0f,"delivered_per_s":%.0f,)"
    R"("gaps":%)" PRIu64 R"(,"reordered":%)" PRIu64 R"(,"p50_ms":%.3f,"p90_ms":%.3f,"p99_ms":%.3f,"p999_ms":%.3f,"max_ms":%.3f,)"
    R"("churn_per_s":%.0f,"generator_cores":%.2f,"server_cores":%.2f,"server_cpu_us_per_delivery":%.3f,)"
    R"("server_rss_kib_before":%)" PRId64 R"(,"server_rss_kib_after":%)" PRId64 R"(,"server_rss_bytes_per_conn":%)" PRId64 "}\n",
    o.scenario.c_str(), o.protocol.c_str(), o.clients, o.topics, o.per_client, o.rate,
    subscribed.load(), connect_errors.load(), static_cast<double>(sent_window) / o.duration,
    delivered, all.gaps, all.reordered, pct(0.5), pct(0.9), pct(0.99), pct(0.999),
    all.latency.max_ms(),
    static_cast<double>(all.cycles) / secs, self_cpu / secs,
    o.server_pid > 0 ? server_cpu / secs : 0.0, per_delivery_us, rss_before, rss_after, rss_per_conn);
  return 0;
}
