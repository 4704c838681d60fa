#pragma once

#include <optional>
#include <string>
#include <vector>

#include <caf/config_option_set.hpp>
#include <caf/timespan.hpp>

#include "net/kafka_feed.hpp"

namespace tickgate {

/// The [kafka] options of a node: the Kafka feed (net/kafka_feed.hpp) is on
/// when `brokers` is set. configs/tickgate.ini documents each.
struct kafka_options {
  std::string brokers; // env KAFKA_BROKERS; empty: no Kafka feed
  std::vector<std::string> topics{"price.updates", "order.book.updates", "trade.notifications",
                                  "portfolio.updates", "system.alerts"}; // env KAFKA_TOPICS
  std::string group_id = "tickgate";                                     // env KAFKA_GROUP_ID
  std::string client_id = "tickgate";                                    // env KAFKA_CLIENT_ID
  caf::timespan session_timeout = std::chrono::seconds(10);              // env KAFKA_SESSION_TIMEOUT (ms)
  std::string offset_reset = "latest";
  std::vector<std::string> routes = net::default_kafka_routes();
  size_t max_payload_bytes = 1024 * 1024;
  size_t batch_records = 1000;
  caf::timespan commit_interval = std::chrono::milliseconds(100);
  caf::timespan lag_interval = std::chrono::seconds(1);
  std::vector<std::string> properties; // "key=value" librdkafka settings

  /// Declares the options in section "kafka" of `opts`.
  void bind(caf::config_option_set& opts);

  /// KAFKA_BROKERS, KAFKA_TOPICS (comma-separated), KAFKA_GROUP_ID,
  /// KAFKA_CLIENT_ID, KAFKA_SESSION_TIMEOUT (milliseconds), unless the same
  /// option was given as a flag (`cli_args`: the raw arguments).
  void apply_environment(const std::vector<std::string>& cli_args);

  /// The feed's settings; returns an error message naming a bad option.
  std::optional<std::string> apply(net::kafka_feed_settings& out) const;
};

} // namespace tickgate
