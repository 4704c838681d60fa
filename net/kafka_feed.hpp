#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "actors/feed.hpp"
#include "net/kafka_routes.hpp"

namespace tickgate::net {

struct kafka_feed_settings {
  std::string brokers;             // bootstrap servers, "host:port,host:port"
  std::vector<std::string> topics; // Kafka topics to consume
  std::string group_id = "tickgate";
  std::string client_id = "tickgate";
  std::chrono::milliseconds session_timeout{10000};
  std::string offset_reset = "latest"; // where a group without committed offsets starts
  std::vector<kafka_route> routes;
  size_t max_payload_bytes = 1024 * 1024;
  size_t batch_records = 1000;                       // records per delivery, at most
  std::chrono::milliseconds commit_interval{100};    // how often handed-over offsets are committed
  std::chrono::milliseconds lag_interval{1000};      // how often the lag gauges are refreshed
  std::chrono::milliseconds handover_wait{2000};     // at a revoke or stop: wait this long for deliveries in flight
  std::vector<std::pair<std::string, std::string>> properties; // extra librdkafka settings
};

/// Kafka as a feed that delivers: one consumer in a consumer group reads the
/// configured Kafka topics on its own thread, turns each record into
/// publications through the routes (net/kafka_routes.hpp) and delivers them
/// in batches (one per poll, up to batch_records records).
///
/// At-least-once: offsets are committed (manually, never auto-committed)
/// only up to the first record whose batch has not been handed to its
/// topics yet; the feed actor confirms each batch (feed::handed) once the
/// router forwarded it. A node restart, or another node taking the
/// partition, continues from the committed offsets. Skipped records commit
/// like routed ones.
///
/// Kafka topics are not the node's topics: a record goes wherever its route
/// says, so follow() confirms every topic at once (and every followed topic
/// again when the brokers are back), and records for topics nobody follows
/// are dropped by the router (counted as unrouted). The feed
/// accepts no publishes; the node keeps the bus or Redis for those.
///
/// Status: down ("kafka not connected yet") until a broker answers; down
/// with the client library's reason when every broker is lost; up again when
/// one answers a metadata request (librdkafka reconnects by itself).
///
/// Threads: everything librdkafka calls back (rebalance, errors, commits)
/// runs on the consumer thread inside its poll; handed() comes from the feed
/// actor and only queues the token under `mtx_`.
class kafka_feed : public feed {
public:
  explicit kafka_feed(kafka_feed_settings settings);
  ~kafka_feed() override;

  std::string name() const override { return "kafka"; }
  std::string endpoint() const override { return settings_.brokers; }
  bool up_at_start() const override { return false; }
  void start(feed_reports reports) override;
  void stop() override;
  bool follow(const std::string& topic) override;
  void unfollow(const std::string& topic) override;
  bool accepts_publishes() const override { return false; }
  publish_outcome publish(const publication_batch& batch) override;
  void handed(uint64_t token) override;
  void describe(actor_stats& s) const override;

  /// Why the node's Kafka feed is down, for /health ("" while it is up).
  static std::string down_reason();

  /// The librdkafka configuration the consumer is created with (without the
  /// callbacks); exposed for the node's config check and tests.
  std::vector<std::pair<std::string, std::string>> client_properties() const;

private:
  struct consumer; // the consumer thread's state (librdkafka handles)

  void run();

  const kafka_feed_settings settings_;
  feed_reports reports_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<int64_t> assigned_{0};

  mutable std::mutex mtx_;
  std::vector<uint64_t> handed_; // tokens confirmed, not yet applied by the consumer thread
  std::set<std::string> followed_; // the node's live topics, confirmed again on each "up"
  friend struct consumer;
};

} // namespace tickgate::net
