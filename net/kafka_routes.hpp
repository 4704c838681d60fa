#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <simdjson.h>

#include "actors/vocabulary.hpp"

namespace tickgate::net {

/// Why a Kafka record made no publication. The record is counted under its
/// reason (metrics: kafka_skipped, names in metrics::kafka_skip_name) and its
/// offset committed like any other: a bad record never blocks its partition.
enum class skip_reason : uint8_t {
  not_json,      // not a JSON object
  no_route,      // no route matches its Kafka topic and "type"
  missing_field, // no "data", or none of its route's targets can be filled in
  bad_topic,     // a target filled in is no valid topic name
  oversize,      // larger than kafka.max-payload-bytes
};
constexpr size_t skip_reason_count = 5;

/// Where the records of one kind go. Written
///   <kafka-topic>[/<type>] -> <target>[, <target>...] [as <event>]
/// `*` for the Kafka topic or the type matches any. A target is a tickgate
/// topic template with {symbol}, {userId} or {type} filled in from the
/// record, optionally followed by ` personal` (that copy's payload carries
/// "personal":true), or `*`: a system message to every client of the node.
/// `event` is the Socket.IO event name of every delivery (publication::event);
/// without `as`, the record's "type".
/// Example: "*/trade_notification -> trade:{symbol}, user:{userId} personal as trade_notification".
struct kafka_route {
  struct target {
    std::string topic; // template; "*": every client
    bool personal = false;
  };
  std::string kafka_topic = "*";
  std::string type = "*";
  std::vector<target> targets;
  std::string event;

  /// Parses one route; returns an error message or nothing.
  static std::optional<std::string> parse(std::string_view text, kafka_route& out);
};

/// The MoonX gateway's routing, which dispatches on the record's "type":
/// price_update -> price:{symbol}, order_book_update -> orderbook:{symbol},
/// trade_notification -> trade:{symbol} and user:{userId} (personal),
/// portfolio_update -> user:{userId}, system_alert -> every client; each
/// under its type as the event name.
const std::vector<std::string>& default_kafka_routes();

/// What one record makes.
struct routed_record {
  publication_batch publications;
  std::vector<std::pair<std::string, std::string>> broadcasts; // (JSON, event)
};

/// Turns MoonX event records {"type","symbol"?,"userId"?,"data","timestamp",
/// "metadata"?} into publications, first matching route wins. Every
/// delivery's payload is the record's "data" object with "symbol" (when the
/// record has one) and "timestamp" (the record's, else the time of
/// consumption in ms) added, the shape the MoonX gateway emits:
///   {"symbol":"BTC-USDC","price":45000.5,"change":2.5,"volume":1234,"timestamp":1700000000000}
/// A "data" that is no object is kept under "data". Not thread-safe (one
/// parser): one per consumer thread.
class kafka_record_router {
public:
  kafka_record_router(std::vector<kafka_route> routes, size_t max_payload_bytes);

  /// Appends what the record `value` from Kafka topic `kafka_topic` makes to
  /// `out`; `now_us` stamps the publications. Returns why it made nothing.
  std::optional<skip_reason> route(std::string_view kafka_topic, std::string_view value,
                                   int64_t now_us, routed_record& out);

  const std::vector<kafka_route>& routes() const { return routes_; }

private:
  const std::vector<kafka_route> routes_;
  const size_t max_payload_bytes_;
  simdjson::dom::parser parser_;
  std::vector<std::pair<std::string, bool>> topics_; // route()'s targets, filled in (reused)
};

} // namespace tickgate::net
