// tickgate-pub: publishes synthetic market data (trades, depth snapshots and
// updates, tickers) for N symbols at a fixed rate, to Redis (pipelined
// PUBLISH) or to a node's POST /api/publish (batched). Every payload carries
// its publish time in microseconds ("P"), so receivers can measure latency.

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <hiredis/hiredis.h>
#include <spdlog/fmt/fmt.h>

#include "net/redis_endpoint.hpp"
#include "tools/tickgate-pub/market.hpp"

namespace {

std::atomic<bool> stop_requested{false};

using clock_type = std::chrono::steady_clock;

/// Sends batches of (channel or topic, payload); returns false on failure.
class sink {
public:
  virtual ~sink() = default;
  virtual bool send(const std::vector<tickgate::pub::message>& batch) = 0;
};

class redis_sink : public sink {
public:
  explicit redis_sink(const tickgate::net::redis_endpoint& ep) {
    ctx_ = redisConnect(ep.host.c_str(), ep.port);
    if (!ctx_ || ctx_->err)
      throw std::runtime_error("cannot connect to " + ep.describe());
    if (!ep.password.empty()) {
      auto* r = ep.user.empty()
                  ? redisCommand(ctx_, "AUTH %b", ep.password.data(), ep.password.size())
                  : redisCommand(ctx_, "AUTH %b %b", ep.user.data(), ep.user.size(),
                                 ep.password.data(), ep.password.size());
      auto* reply = static_cast<redisReply*>(r);
      bool ok = reply && reply->type != REDIS_REPLY_ERROR;
      if (reply)
        freeReplyObject(reply);
      if (!ok)
        throw std::runtime_error("AUTH failed at " + ep.describe());
    }
  }
  ~redis_sink() override {
    if (ctx_)
      redisFree(ctx_);
  }

  // Pipelined: append every PUBLISH, then read all replies.
  bool send(const std::vector<tickgate::pub::message>& batch) override {
    for (auto& m : batch) {
      const char* argv[] = {"PUBLISH", m.channel.data(), m.payload.data()};
      size_t lens[] = {7, m.channel.size(), m.payload.size()};
      redisAppendCommandArgv(ctx_, 3, argv, lens);
    }
    for (size_t i = 0; i < batch.size(); ++i) {
      void* reply = nullptr;
      if (redisGetReply(ctx_, &reply) != REDIS_OK)
        return false;
      freeReplyObject(reply);
    }
    return true;
  }

private:
  redisContext* ctx_ = nullptr;
};

class http_sink : public sink {
public:
  http_sink(std::string host, uint16_t port)
    : host_(std::move(host)), port_(port), stream_(ioc_) {
    connect();
  }

  bool send(const std::vector<tickgate::pub::message>& batch) override {
    namespace http = boost::beast::http;
    std::string body = "[";
    for (size_t i = 0; i < batch.size(); ++i) {
      if (i)
        body += ',';
      body += R"({"topic":")" + batch[i].channel + R"(","data":)" + batch[i].payload + "}";
    }
    body += ']';
    http::request<http::string_body> req{http::verb::post, "/api/publish", 11};
    req.set(http::field::host, host_);
    req.set(http::field::content_type, "application/json");
    req.keep_alive(true);
    req.body() = std::move(body);
    req.prepare_payload();
    boost::beast::error_code ec;
    http::write(stream_, req, ec);
    if (ec)
      return false;
    http::response<http::string_body> res;
    http::read(stream_, buf_, res, ec);
    if (ec || res.result() != http::status::ok) {
      std::fprintf(stderr, "tickgate-pub: publish failed: %s %s\n",
                   ec ? ec.message().c_str() : "", res.body().c_str());
      return false;
    }
    return true;
  }

private:
  void connect() {
    boost::asio::ip::tcp::resolver resolver{ioc_};
    stream_.connect(resolver.resolve(host_, std::to_string(port_)));
    stream_.socket().set_option(boost::asio::ip::tcp::no_delay(true));
  }

  std::string host_;
  uint16_t port_;
  boost::asio::io_context ioc_;
  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buf_;
};

bool parse_http_url(const std::string& url, std::string& host, uint16_t& port) {
  std::string rest = url;
  if (rest.rfind("http://", 0) == 0)
    rest = rest.substr(7);
  rest = rest.substr(0, rest.find('/'));
  auto colon = rest.rfind(':');
  host = colon == std::string::npos ? rest : rest.substr(0, colon);
  port = 80;
  if (colon != std::string::npos) {
    try {
      port = static_cast<uint16_t>(std::stoi(rest.substr(colon + 1)));
    } catch (...) {
      return false;
    }
  }
  return !host.empty() && port != 0;
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"tickgate-pub: synthetic market data publisher"};
  std::string redis_url;
  std::string http_url = "http://127.0.0.1:8080";
  tickgate::pub::market_settings ms;
  double rate = 1000;
  double duration = 10;
  size_t max_batch = 1000;
  bool quiet = false;
  std::string types = "trade,depth,ticker";
  app.add_option("--redis", redis_url, "publish to Redis: redis://[[user]:password@]host[:port][/db]");
  app.add_option("--http", http_url, "publish to a node's POST /api/publish (default when --redis is not given)");
  app.add_option("--symbols", ms.symbols, "number of symbols")->check(CLI::Range(1, 1000000));
  app.add_option("--types", types, "comma-separated: trade, depth, ticker");
  app.add_option("--rate", rate, "messages per second over all symbols and types")->check(CLI::PositiveNumber);
  app.add_option("--duration", duration, "seconds to run; 0 runs until Ctrl-C");
  app.add_option("--channel", ms.channel_template,
                 "channel (Redis) or topic (HTTP) template with {type} and {symbol}");
  app.add_option("--batch", max_batch, "most messages per pipeline flush / HTTP request")->check(CLI::Range(1, 100000));
  app.add_option("--payload-pad", ms.pad_bytes, "extra bytes of padding in every payload");
  app.add_flag("--quiet", quiet, "print only the final line");
  CLI11_PARSE(app, argc, argv);
  ms.trades = types.find("trade") != std::string::npos;
  ms.depth = types.find("depth") != std::string::npos;
  ms.tickers = types.find("ticker") != std::string::npos;
  if (!ms.trades && !ms.depth && !ms.tickers) {
    std::fprintf(stderr, "tickgate-pub: --types names none of trade, depth, ticker\n");
    return 2;
  }

  std::unique_ptr<sink> out;
  std::string target;
  try {
    if (!redis_url.empty()) {
      std::string err;
      auto ep = tickgate::net::redis_endpoint::parse(redis_url, err);
      if (!ep) {
        std::fprintf(stderr, "tickgate-pub: --redis: %s\n", err.c_str());
        return 2;
      }
      out = std::make_unique<redis_sink>(*ep);
      target = ep->describe();
    } else {
      std::string host;
      uint16_t port;
      if (!parse_http_url(http_url, host, port)) {
        std::fprintf(stderr, "tickgate-pub: bad --http URL %s\n", http_url.c_str());
        return 2;
      }
      out = std::make_unique<http_sink>(host, port);
      target = http_url;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tickgate-pub: %s\n", e.what());
    return 1;
  }

  std::signal(SIGINT, [](int) { stop_requested = true; });
  std::signal(SIGTERM, [](int) { stop_requested = true; });
  tickgate::pub::market market{ms};
  if (!quiet)
    std::printf("tickgate-pub: %zu symbols, %.0f msg/s, to %s\n", ms.symbols, rate,
                target.c_str());

  // Pacing: every millisecond, publish what the rate owes since the start.
  auto start = clock_type::now();
  auto deadline = duration > 0 ? start + std::chrono::duration_cast<clock_type::duration>(
                                           std::chrono::duration<double>(duration))
                               : clock_type::time_point::max();
  uint64_t sent = 0;
  uint64_t last_report_sent = 0;
  auto last_report = start;
  std::vector<tickgate::pub::message> batch;
  bool failed = false;
  for (auto tick = start; !stop_requested && tick < deadline;
       tick += std::chrono::milliseconds(1)) {
    std::this_thread::sleep_until(tick);
    auto now = clock_type::now();
    auto elapsed = std::chrono::duration<double>(std::min(now, deadline) - start).count();
    auto due = static_cast<uint64_t>(elapsed * rate);
    if (duration > 0 && tick + std::chrono::milliseconds(1) >= deadline) {
      // The last tick completes an on-pace run exactly; a run the target
      // could not keep up with just ends at the deadline.
      auto total = static_cast<uint64_t>(duration * rate);
      if (total - std::min(total, sent) <= static_cast<uint64_t>(rate / 100) + 1)
        due = total;
    }
    while (sent < due && !failed && clock_type::now() < deadline + std::chrono::milliseconds(1)) {
      batch.clear();
      auto n = std::min<uint64_t>(due - sent, max_batch);
      auto ts = tickgate::pub::now_us();
      for (uint64_t i = 0; i < n; ++i)
        batch.push_back(market.next(ts));
      failed = !out->send(batch);
      sent += n;
    }
    if (failed) {
      std::fprintf(stderr, "tickgate-pub: target failed after %llu messages\n",
                   static_cast<unsigned long long>(sent));
      break;
    }
    if (!quiet && now - last_report >= std::chrono::seconds(1)) {
      auto secs = std::chrono::duration<double>(now - last_report).count();
      std::printf("  %8.0f msg/s  (%llu sent)\n",
                  static_cast<double>(sent - last_report_sent) / secs,
                  static_cast<unsigned long long>(sent));
      std::fflush(stdout);
      last_report = now;
      last_report_sent = sent;
    }
    if (now > tick + std::chrono::milliseconds(100))
      tick = now; // fell behind (target slower than the rate): do not burst
  }
  auto secs = std::chrono::duration<double>(clock_type::now() - start).count();
  std::printf("sent %llu messages in %.2f s: %.0f msg/s (target %.0f)\n",
              static_cast<unsigned long long>(sent), secs,
              static_cast<double>(sent) / secs, rate);
  return failed ? 1 : 0;
}
