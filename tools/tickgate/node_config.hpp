#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <caf/actor_system_config.hpp>
#include <caf/timespan.hpp>

#include "actors/admin_alerts.hpp"
#include "actors/auth.hpp"
#include "actors/demo_feed_actor.hpp"
#include "actors/settings.hpp"
#include "proto/dialect_settings.hpp"
#include "net/net_context.hpp"
#include "tools/tickgate/cluster_options.hpp"
#include "tools/tickgate/kafka_options.hpp"
#include "tools/tickgate/protection_options.hpp"

namespace tickgate {

/// Every option of a tickgate node. CAF's config system fills it from
/// configs/tickgate.ini (--config-file=...) and --key=value flags;
/// apply_environment() then honours WS_PORT/PORT, WS_HOST, REDIS_URL,
/// REDIS_HOST/REDIS_PORT, REDIS_PASSWORD, ADMIN_PORT, ADMIN_SECRET, ALLOWED_ORIGINS,
/// MAX_CONNECTIONS, MAX_CONNECTIONS_PER_IP, JWT_SECRET, JWT_PUBLIC_KEY_FILE and the
/// KAFKA_* variables (kafka_options.hpp) unless
/// the same option was given as a flag.
struct node_config : caf::actor_system_config {
  // [global]
  bool demo = false;
  double demo_rate = 20.0;
  std::vector<std::string> demo_symbols{"AAPL", "MSFT", "GOOGL", "TSLA", "BTC-USD"};
  std::string node_id;              // empty: random at start
  std::string log_level = "info";
  caf::timespan stats_interval = std::chrono::seconds(60);
  caf::timespan shutdown_grace = std::chrono::seconds(4);
  std::string ready_file;           // written as {"port":N,"pid":P} once listening

  // [ws]
  std::string ws_host = "0.0.0.0";
  uint16_t ws_port = 8080;
  std::vector<std::string> ws_endpoints{"/v1=native", "/=auto", "/ws=typed",
                                        "/stream=stream", "/socket.io/=socketio"};
  size_t max_frame_bytes = 64 * 1024;
  size_t max_http_body_bytes = 1024 * 1024;
  caf::timespan ping_interval = std::chrono::seconds(30);
  caf::timespan pong_timeout = std::chrono::seconds(10);
  caf::timespan handshake_timeout = std::chrono::seconds(10);
  size_t outbound_max_messages = 8192;
  size_t outbound_max_bytes = 16 * 1024 * 1024;
  std::string slow_consumer_policy = "disconnect";
  size_t max_subscriptions = 100;
  int64_t io_threads = 1;
  size_t io_actor_jobs = 64;
  size_t pace_above = 100;
  caf::timespan pace_interval = std::chrono::milliseconds{4};
  size_t send_batch = 256;
  size_t inbound_queue = 64;

  // [redis]: read by the Redis feed's maker (tools/tickgate/feeds.cpp)
  std::string redis_url;                 // empty: embedded mode (in-process bus)
  std::vector<std::string> redis_patterns;
  std::vector<std::string> redis_mappings;
  size_t redis_max_payload_bytes = 1024 * 1024;
  caf::timespan redis_reconnect_min = std::chrono::milliseconds(100);
  caf::timespan redis_reconnect_max = std::chrono::seconds(1);
  size_t redis_max_pending_publishes = 100000;
  std::string redis_snapshot_suffix = "#snapshot";
  std::string redis_event_suffix = "#event";
  std::string redis_numbering = "auto";  // on, off, auto: on in a cluster
  size_t redis_stream_size = 100;
  caf::timespan redis_stream_ttl = std::chrono::seconds(300);
  std::string redis_key_prefix = "tickgate:";

  // [kafka]: read by the Kafka feed's maker (tools/tickgate/feeds.cpp)
  kafka_options kafka;
  // [cluster]: the node actor's membership (tools/tickgate/cluster_options.hpp)
  cluster_options cluster;
  // [socketio]: the Socket.IO emitter feed's maker (tools/tickgate/feeds.cpp)
  bool socketio_redis_emitter = false;
  std::string socketio_redis_channel_prefix = "socket.io";

  // [dialects]: the options bind to these fields; the defaults live in dialect_settings.
  dialect_settings dialect;

  // [limits]: the namespace system's per-user and per-namespace caps (0: none)
  size_t max_channels_per_user = 50;
  size_t max_rooms_per_namespace = 20;

  // [admin]
  std::string admin_host = "127.0.0.1";
  uint16_t admin_port = 8089;            // 0 picks a free port
  std::string admin_secret;              // empty: no secret (loopback only is the default)
  caf::timespan admin_stats_interval = std::chrono::seconds(5);
  size_t admin_storm_closes = 10;
  caf::timespan admin_storm_window = std::chrono::seconds(10);

  // [protection]
  protection_options protection;
  // [auth]: the options bind to these fields; the defaults live in auth_settings.
  auth_settings auth_rules;
  std::string auth_public_key_file;      // PEM; read at start into auth_rules.jwt_public_key
  caf::timespan auth_leeway = std::chrono::seconds(5);

  // [history]
  std::vector<std::string> history_rules;
  size_t history_size = 100;
  caf::timespan history_ttl = std::chrono::minutes(2);
  size_t history_max_bytes = size_t{256} << 20;

  // [topic]
  caf::timespan idle_grace = std::chrono::seconds(5);
  size_t restart_burst = 5;
  caf::timespan restart_window = std::chrono::seconds(10);
  caf::timespan restart_backoff = std::chrono::seconds(1);
  caf::timespan restart_backoff_max = std::chrono::seconds(30);

  node_config();

  /// Checks the config file that parse() read (config_file_path), strictly:
  /// CAF's INI reader keeps keys no option declares and drops values of the
  /// wrong type without a word, so a typo would silently run the default.
  /// Returns "<file>:<line>: ..." for the first entry whose key names no
  /// option (tickgate's or CAF's own: scheduler, middleman, logger...) or
  /// whose value does not fit the option's type; nothing when all fit or
  /// there is no file.
  std::optional<std::string> check_config_file() const;

  /// Applies the environment variables of the gateways tickgate replaces.
  /// `cli_args` are the raw command-line arguments.
  void apply_environment(const std::vector<std::string>& cli_args);

  routing_settings routing() const;
  /// The admin namespace's admin.stats interval and when alerts are raised.
  void admin_events(std::chrono::milliseconds& stats_interval, alert_settings& alerts) const;
  /// Edge settings; returns an error message for a bad endpoint.
  std::optional<std::string> edge(net::edge_settings& out) const;

  /// What topics retain; returns an error message for a malformed rule.
  std::optional<std::string> history(history_settings& out) const;

  /// Token and private-topic settings; returns an error message for an
  /// unreadable key file or a private-topic pattern without {id}.
  std::optional<std::string> auth(auth_settings& out) const;

  /// Applies the [dialects] section to the process-wide dialect settings.
  void apply_dialects() const;
  demo_feed_settings demo_feed() const;
};

} // namespace tickgate
