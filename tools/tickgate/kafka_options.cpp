#include "tools/tickgate/kafka_options.hpp"

#include <caf/config_option_adder.hpp>

#include "tools/tickgate/env_vars.hpp"

namespace tickgate {

void kafka_options::bind(caf::config_option_set& opts) {
  caf::config_option_adder{opts, "kafka"}
    .add(brokers, "brokers", "bootstrap servers host:port[,host:port...]; empty: no Kafka feed (env KAFKA_BROKERS)")
    .add(topics, "topics", "Kafka topics to consume (env KAFKA_TOPICS, comma-separated)")
    .add(group_id, "group-id", "consumer group; its committed offsets survive restarts (env KAFKA_GROUP_ID)")
    .add(client_id, "client-id", "client id the brokers see (env KAFKA_CLIENT_ID)")
    .add(session_timeout, "session-timeout", "group session timeout (env KAFKA_SESSION_TIMEOUT, in ms)")
    .add(offset_reset, "offset-reset", "where a group without committed offsets starts: latest or earliest")
    .add(routes, "routes", "\"<kafka-topic>[/<type>] -> <topic template>[ personal][, ...] [as <event>]\", first match wins; * as target: every client")
    .add(max_payload_bytes, "max-payload-bytes", "larger records are skipped and counted")
    .add(batch_records, "batch-records", "records delivered to the topics per batch, at most")
    .add(commit_interval, "commit-interval", "how often offsets handed to the topics are committed")
    .add(lag_interval, "lag-interval", "how often tickgate_kafka_consumer_lag is refreshed")
    .add(properties, "properties", "extra librdkafka settings, \"key=value\" (e.g. security.protocol=ssl)");
}

void kafka_options::apply_environment(const std::vector<std::string>& cli_args) {
  using env_vars::flag_given;
  using env_vars::get;
  if (!flag_given(cli_args, "--kafka.brokers"))
    if (auto v = get("KAFKA_BROKERS"))
      brokers = v;
  if (!flag_given(cli_args, "--kafka.topics"))
    if (auto v = get("KAFKA_TOPICS"))
      topics = env_vars::split_list(v);
  if (!flag_given(cli_args, "--kafka.group-id"))
    if (auto v = get("KAFKA_GROUP_ID"))
      group_id = v;
  if (!flag_given(cli_args, "--kafka.client-id"))
    if (auto v = get("KAFKA_CLIENT_ID"))
      client_id = v;
  if (!flag_given(cli_args, "--kafka.session-timeout")) {
    int64_t ms = -1;
    env_vars::get_count("KAFKA_SESSION_TIMEOUT", ms);
    if (ms >= 0)
      session_timeout = std::chrono::milliseconds{ms};
  }
}

std::optional<std::string> kafka_options::apply(net::kafka_feed_settings& out) const {
  using std::chrono::duration_cast;
  using std::chrono::milliseconds;
  out.brokers = brokers;
  out.topics = topics;
  if (topics.empty())
    return "kafka.topics: no Kafka topic to consume";
  out.group_id = group_id;
  out.client_id = client_id;
  if (group_id.empty())
    return "kafka.group-id: a consumer group is required (offsets are committed to it)";
  out.session_timeout = duration_cast<milliseconds>(session_timeout);
  if (offset_reset != "latest" && offset_reset != "earliest")
    return "kafka.offset-reset: '" + offset_reset + "' (expected latest or earliest)";
  out.offset_reset = offset_reset;
  out.routes.clear();
  for (auto& text : routes) {
    net::kafka_route r;
    if (auto err = net::kafka_route::parse(text, r))
      return "kafka.routes: '" + text + "': " + *err;
    out.routes.push_back(std::move(r));
  }
  out.max_payload_bytes = max_payload_bytes;
  out.batch_records = std::clamp<size_t>(batch_records, 1, 100000);
  out.commit_interval = std::max(milliseconds{1}, duration_cast<milliseconds>(commit_interval));
  out.lag_interval = std::max(milliseconds{10}, duration_cast<milliseconds>(lag_interval));
  out.properties.clear();
  for (auto& kv : properties) {
    auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0)
      return "kafka.properties: '" + kv + "' (expected key=value)";
    out.properties.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
  }
  return std::nullopt;
}

} // namespace tickgate
