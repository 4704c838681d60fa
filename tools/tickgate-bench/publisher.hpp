#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

namespace tickgate::bench {

/// Publishes `rate` messages/s round-robin over `channels` from a thread of
/// its own, pipelined to Redis, batched to POST /api/publish, or produced
/// to Kafka. Payloads:
/// {"k":<channel index>,"n":<per-channel counter from 1>,"P":<publish time, us>}
/// so receivers measure latency and count gaps. To Kafka each is a MoonX
/// price update, {"type":"price_update","symbol":<channel>,"data":<payload>},
/// keyed by the symbol (one partition per symbol keeps its order), and
/// handed to the client library as it is made (sent within linger.ms=5).
class publisher {
public:
  struct settings {
    std::string redis_url;           // one of these three
    std::string kafka_brokers;       // with kafka_topic
    std::string kafka_topic;
    std::string http_host;
    uint16_t http_port = 0;
    std::vector<std::string> channels;
    double rate = 1000;
    size_t pad_bytes = 0;            // padding to make payloads larger
  };

  explicit publisher(settings s);
  ~publisher();

  /// Starts publishing; false (with `error`) if the target is unreachable.
  bool start(std::string& error);
  void stop();

  uint64_t sent() const { return sent_.load(); }
  uint64_t failed() const { return failed_.load(); }

private:
  void run_redis();
  void run_http();
  void run_kafka();

  settings s_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> sent_{0};
  std::atomic<uint64_t> failed_{0};
  std::thread thread_;
  void* redis_ = nullptr; // redisContext
  void* kafka_ = nullptr; // rd_kafka_t (producer)
};

int64_t now_us();

} // namespace tickgate::bench
