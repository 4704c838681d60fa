#include "tools/tickgate-bench/publisher.hpp"

#include <algorithm>
#include <chrono>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <hiredis/hiredis.h>
#include <librdkafka/rdkafka.h>

#include "net/redis_endpoint.hpp"

namespace tickgate::bench {

int64_t now_us() {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

publisher::publisher(settings s) : s_(std::move(s)) {
}

publisher::~publisher() {
  stop();
  if (redis_)
    redisFree(static_cast<redisContext*>(redis_));
  if (kafka_)
    rd_kafka_destroy(static_cast<rd_kafka_t*>(kafka_));
}

bool publisher::start(std::string& error) {
  if (!s_.redis_url.empty()) {
    auto ep = net::redis_endpoint::parse(s_.redis_url, error);
    if (!ep)
      return false;
    auto* c = redisConnect(ep->host.c_str(), ep->port);
    if (!c || c->err) {
      error = "cannot connect to " + ep->describe();
      if (c)
        redisFree(c);
      return false;
    }
    if (!ep->password.empty())
      freeReplyObject(redisCommand(c, "AUTH %b", ep->password.data(), ep->password.size()));
    redis_ = c;
    thread_ = std::thread([this] { run_redis(); });
    return true;
  }
  if (!s_.kafka_brokers.empty()) {
    char err[512];
    auto* conf = rd_kafka_conf_new();
    for (auto [key, value] : {std::pair{"bootstrap.servers", s_.kafka_brokers.c_str()},
                              {"linger.ms", "5"}, {"acks", "1"}})
      if (rd_kafka_conf_set(conf, key, value, err, sizeof err) != RD_KAFKA_CONF_OK) {
        error = err;
        rd_kafka_conf_destroy(conf);
        return false;
      }
    rd_kafka_conf_set_opaque(conf, this);
    rd_kafka_conf_set_dr_msg_cb(conf, [](rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
      if (m->err)
        ++static_cast<publisher*>(opaque)->failed_;
    });
    auto* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk) {
      error = err;
      rd_kafka_conf_destroy(conf);
      return false;
    }
    kafka_ = rk;
    thread_ = std::thread([this] { run_kafka(); });
    return true;
  }
  thread_ = std::thread([this] { run_http(); });
  return true;
}

void publisher::stop() {
  stop_ = true;
  if (thread_.joinable())
    thread_.join();
}

namespace {

// Calls emit(n) with how many messages the rate owes, every millisecond.
template <class Emit>
void paced(std::atomic<bool>& stop, double rate, Emit emit) {
  auto start = std::chrono::steady_clock::now();
  uint64_t done = 0;
  for (auto tick = start; !stop; tick += std::chrono::milliseconds(1)) {
    std::this_thread::sleep_until(tick);
    auto now = std::chrono::steady_clock::now();
    auto due = static_cast<uint64_t>(std::chrono::duration<double>(now - start).count() * rate);
    if (due > done) {
      // At most 10 ms' worth per call. A publisher that fell behind (Redis or
      // the node is slower than the rate) skips what it owes beyond that
      // instead of sending ever larger batches that never let it stop; the
      // run reports what was actually published.
      auto cap = std::max<uint64_t>(1, static_cast<uint64_t>(rate / 100));
      emit(std::min(due - done, cap));
      done = due;
    }
    if (now > tick + std::chrono::milliseconds(50))
      tick = now;
  }
}

// {"k":k,"n":n,"P":ts[,"pad":pad]}: what receivers read (receipt.hpp).
std::string bench_payload(size_t k, uint64_t n, int64_t ts, const std::string& pad) {
  auto out = "{\"k\":" + std::to_string(k) + ",\"n\":" + std::to_string(n) + ",\"P\":"
             + std::to_string(ts);
  if (!pad.empty())
    out += ",\"pad\":\"" + pad + "\"";
  out += '}';
  return out;
}

} // namespace

void publisher::run_redis() {
  auto* c = static_cast<redisContext*>(redis_);
  std::vector<uint64_t> counters(s_.channels.size(), 0);
  size_t next = 0;
  std::string pad(s_.pad_bytes, 'x');
  std::string payload;
  paced(stop_, s_.rate, [&](uint64_t n) {
    auto ts = now_us();
    for (uint64_t i = 0; i < n; ++i) {
      auto k = next++ % s_.channels.size();
      payload = bench_payload(k, ++counters[k], ts, pad);
      const char* argv[] = {"PUBLISH", s_.channels[k].data(), payload.data()};
      size_t lens[] = {7, s_.channels[k].size(), payload.size()};
      redisAppendCommandArgv(c, 3, argv, lens);
    }
    for (uint64_t i = 0; i < n; ++i) {
      void* reply = nullptr;
      if (redisGetReply(c, &reply) != REDIS_OK) {
        failed_ += n - i;
        return;
      }
      freeReplyObject(reply);
    }
    sent_ += n;
  });
}

void publisher::run_http() {
  namespace http = boost::beast::http;
  boost::asio::io_context ioc;
  boost::beast::tcp_stream stream{ioc};
  boost::beast::error_code ec;
  stream.connect({boost::asio::ip::make_address(s_.http_host), s_.http_port}, ec);
  if (ec) {
    failed_ = 1;
    return;
  }
  boost::beast::flat_buffer buf;
  std::vector<uint64_t> counters(s_.channels.size(), 0);
  size_t next = 0;
  std::string pad(s_.pad_bytes, 'x');
  paced(stop_, s_.rate, [&](uint64_t n) {
    auto ts = now_us();
    std::string body = "[";
    for (uint64_t i = 0; i < n; ++i) {
      auto k = next++ % s_.channels.size();
      if (i)
        body += ',';
      body += "{\"topic\":\"" + s_.channels[k]
              + "\",\"data\":" + bench_payload(k, ++counters[k], ts, pad) + "}";
    }
    body += ']';
    http::request<http::string_body> req{http::verb::post, "/api/publish", 11};
    req.set(http::field::host, s_.http_host);
    req.keep_alive(true);
    req.body() = std::move(body);
    req.prepare_payload();
    http::write(stream, req, ec);
    http::response<http::string_body> res;
    if (!ec)
      http::read(stream, buf, res, ec);
    if (ec || res.result() != http::status::ok)
      failed_ += n;
    else
      sent_ += n;
  });
}

void publisher::run_kafka() {
  auto* rk = static_cast<rd_kafka_t*>(kafka_);
  std::vector<uint64_t> counters(s_.channels.size(), 0);
  size_t next = 0;
  std::string pad(s_.pad_bytes, 'x');
  std::string record;
  paced(stop_, s_.rate, [&](uint64_t n) {
    for (uint64_t i = 0; i < n; ++i) {
      auto k = next++ % s_.channels.size();
      auto& symbol = s_.channels[k];
      auto ts = now_us();
      record = "{\"type\":\"price_update\",\"symbol\":\"" + symbol + "\",\"data\":"
               + bench_payload(k, ++counters[k], ts, pad) + ",\"timestamp\":"
               + std::to_string(ts / 1000) + "}";
      auto rc = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(s_.kafka_topic.c_str()),
                                  RD_KAFKA_V_KEY(symbol.data(), symbol.size()),
                                  RD_KAFKA_V_VALUE(record.data(), record.size()),
                                  RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
      if (rc != RD_KAFKA_RESP_ERR_NO_ERROR)
        ++failed_;
      else
        ++sent_;
    }
    rd_kafka_poll(rk, 0); // delivery reports
  });
  rd_kafka_flush(rk, 2000);
}

} // namespace tickgate::bench
