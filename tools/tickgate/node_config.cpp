#include "tools/tickgate/node_config.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include <caf/config_value.hpp>
#include <caf/expected.hpp>
#include <caf/io/middleman.hpp>
#include <caf/pec.hpp>
#include <caf/settings.hpp>
#include <spdlog/spdlog.h>

#include "actors/metrics.hpp"
#include "actors/user_registry.hpp"
#include "proto/dialect_settings.hpp"
#include "proto/frame_decoder.hpp"

namespace tickgate {

namespace {

template <class Duration>
Duration as(caf::timespan t) {
  return std::chrono::duration_cast<Duration>(t);
}

bool flag_given(const std::vector<std::string>& args, std::string_view name) {
  return std::any_of(args.begin(), args.end(), [&](const std::string& a) {
    return a.rfind(name, 0) == 0;
  });
}

} // namespace

node_config::node_config() {
  load<caf::io::middleman>(); // tickgatectl and cluster peers reach the node through it
  add_cluster_types(*this);
  // CAF's work-stealing workers poll after every message, so an idle node
  // burns CPU that on a small box belongs to the socket threads; the sharing
  // policy parks idle workers.
  // --scheduler.policy=stealing restores CAF's default.
  set("scheduler.policy", caf::atom("sharing"));
  // CAF starts max(cores, 4) workers. With the socket thread(s) beside them
  // that oversubscribes a small box, and every message between two workers
  // is a futex wake. Default: the cores left after one socket thread.
  auto cores = std::thread::hardware_concurrency();
  set("scheduler.max-threads", static_cast<size_t>(cores > 1 ? cores - 1 : 1));
  opt_group{custom_options_, "global"}
    .add(demo, "demo", "publish a synthetic market on every dialect's default topics")
    .add(demo_rate, "demo-rate", "demo trades per second (all symbols)")
    .add(demo_symbols, "demo-symbols", "symbols of the demo feed")
    .add(node_id, "node-id", "node id (default: random at start)")
    .add(log_level, "log-level", "trace, debug, info, warn, error or off")
    .add(stats_interval, "stats-interval", "period of the stats log line")
    .add(shutdown_grace, "shutdown-grace", "time clients get to close on shutdown")
    .add(ready_file, "ready-file", "write {\"port\":N,\"pid\":P} here once listening");
  opt_group{custom_options_, "ws"}
    .add(ws_host, "host", "listen address (env WS_HOST)")
    .add(ws_port, "port", "listen port for WebSocket and HTTP; 0 picks one (env WS_PORT or PORT)")
    .add(ws_endpoints, "endpoints", "WebSocket paths and their dialect: path=native|action|stream|typed|socketio|auto")
    .add(max_frame_bytes, "max-frame-bytes", "largest client frame; larger closes with 1009")
    .add(max_http_body_bytes, "max-http-body-bytes", "largest HTTP request body; larger gets 413")
    .add(ping_interval, "ping-interval", "WebSocket ping period")
    .add(pong_timeout, "pong-timeout", "close when no pong arrives within this")
    .add(handshake_timeout, "handshake-timeout", "HTTP, WebSocket handshake and close-handshake timeout")
    .add(outbound_max_messages, "outbound-max-messages", "per-client queue bound in frames (then: close 1008 slow consumer)")
    .add(outbound_max_bytes, "outbound-max-bytes", "per-client queue bound in bytes (then: close 1008 slow consumer)")
    .add(slow_consumer_policy, "slow-consumer-policy", "past an outbound bound: disconnect (close 1008), drop-oldest (drop queued events, tell the client) or conflate (keep the newest queued event per topic)")
    .add(max_subscriptions, "max-subscriptions", "topics one connection may follow")
    .add(io_threads, "io-threads", "threads running sockets")
    .add(io_actor_jobs, "io-actor-jobs", "actor jobs an I/O thread runs itself per pass instead of waking a CAF worker (0: workers run all)")
    .add(pace_above, "pace-above", "frames per second above which a client is written once per pace-interval, its frames batched (0: never)")
    .add(pace_interval, "pace-interval", "how often a paced client is written (1ms..1s)")
    .add(send_batch, "send-batch", "socket writes of one flush pass sent with one system call (io_uring), at most this many (0 or 1: one send each)")
    .add(inbound_queue, "inbound-queue", "client messages a connection actor may have unprocessed before its socket stops being read (reading resumes at half; 0: never paused)");
  opt_group{custom_options_, "redis"}
    .add(redis_url, "url", "redis://[[user]:password@]host[:port][/db]; empty: embedded bus (env REDIS_URL, REDIS_HOST/REDIS_PORT, REDIS_PASSWORD)")
    .add(redis_patterns, "patterns", "PSUBSCRIBE these; channels they cover get no SUBSCRIBE of their own")
    .add(redis_mappings, "mappings", "topic <-> channel templates, e.g. \"trade@{symbol} -> channel:trade:{symbol}\"")
    .add(redis_max_payload_bytes, "max-payload-bytes", "larger Redis messages are dropped and counted")
    .add(redis_reconnect_min, "reconnect-min", "first reconnect delay (doubles, with jitter)")
    .add(redis_reconnect_max, "reconnect-max", "longest reconnect delay")
    .add(redis_max_pending_publishes, "max-pending-publishes", "PUBLISHes awaiting Redis; more are dropped and counted")
    .add(redis_snapshot_suffix, "snapshot-suffix", "a message on a topic's channel plus this suffix is a snapshot of the topic; empty: none")
    .add(redis_event_suffix, "event-suffix", "publications with an event name travel on the topic's channel plus this suffix, in an envelope; empty: names are not carried")
    .add(redis_numbering, "numbering", "on: publishes are numbered in Redis (one script: seq, capped stream, PUBLISH on the event twin), so every node gives an event the same position and a client resumes on any node; off; auto (default): on in a cluster")
    .add(redis_stream_size, "stream-size", "numbering: events kept per topic in Redis for clients resuming on a node that just started following it (0: positions only)")
    .add(redis_stream_ttl, "stream-ttl", "numbering: a topic's position and stream expire this long after its last publish (numbering then starts over in a new epoch)")
    .add(redis_key_prefix, "key-prefix", "numbering: prefix of the Redis keys pos:{<channel>} and stream:{<channel>}");
  opt_group{custom_options_, "socketio"}
    .add(socketio_redis_emitter, "redis-emitter", "deliver what @socket.io/redis-emitter and redis-adapter servers publish (needs redis.url)")
    .add(socketio_redis_channel_prefix, "redis-channel-prefix", "their `key`: channels <prefix>#<nsp># and <prefix>#<nsp>#<room>#");
  opt_group{custom_options_, "dialects"}
    .add(dialect.action_topic, "action-topic", "topic of an action-protocol symbol ({symbol})")
    .add(dialect.action_event_type, "action-event-type", "\"type\" of action-protocol event frames")
    .add(dialect.action_max_symbols, "action-max-symbols", "symbols one action-protocol client may follow")
    .add(dialect.typed_topic, "typed-topic", "topic of a typed-envelope symbol ({symbol})")
    .add(dialect.typed_event_type, "typed-event-type", "\"type\" of typed-envelope event frames")
    .add(dialect.namespaces, "socketio-namespaces", "Socket.IO namespaces clients may connect to")
    .add(dialect.subscribe_topics, "socketio-subscribe-topics", "topics a Socket.IO subscribe {symbols} joins per symbol")
    .add(dialect.room_prefixes, "socketio-rooms", "room prefixes join_room accepts (a room is its topic)")
    .add(dialect.room_events, "socketio-room-events", "prefix=event name for deliveries to rooms")
    .add(dialect.subscribe_events, "socketio-subscribe-events", "prefix=event name for deliveries to subscribe-joined topics")
    .add(dialect.action_last, "action-last", "retained events an action-protocol subscribe starts with (0: live only)")
    .add(dialect.stream_last, "stream-last", "retained events a stream-protocol SUBSCRIBE starts with (0: live only)")
    .add(dialect.typed_last, "typed-last", "retained events a typed-envelope subscribe starts with (0: live only)")
    .add(dialect.socketio_last, "socketio-last", "retained events a Socket.IO subscribe/join_room without its own options starts with (0: live only)")
    .add(dialect.market_namespace, "socketio-market-namespace", "namespace whose subscribe {symbols, channels} joins market rooms (empty: none)")
    .add(dialect.market_topic, "socketio-market-topic", "market room of a symbol and channel ({channel}, {symbol})")
    .add(dialect.market_channels, "socketio-market-channels", "channels a market subscribe may name (default: all of them)")
    .add(dialect.user_namespace, "socketio-user-namespace", "namespace whose authenticated clients join their own rooms on connect (empty: none)")
    .add(dialect.user_rooms, "socketio-user-rooms", "rooms an authenticated client of that namespace joins ({id}: the token's sub; private to that user)");
  opt_group{custom_options_, "limits"}
    .add(max_channels_per_user, "max-channels-per-user", "subscriptions one authenticated user may hold across its connections on this node (0: no limit)")
    .add(max_rooms_per_namespace, "max-rooms-per-namespace", "rooms one Socket.IO connection may join per namespace (0: no limit)");
  opt_group{custom_options_, "admin"}
    .add(admin_host, "host", "tickgatectl listener address (loopback by default)")
    .add(admin_port, "port", "tickgatectl port (CAF middleman); 0 picks one (env ADMIN_PORT)")
    .add(admin_secret, "secret", "shared secret tickgatectl and /admin/ must present (env ADMIN_SECRET)")
    .add(admin_stats_interval, "stats-interval", "admin.stats push interval to the admin namespace's clients")
    .add(admin_storm_closes, "slow-consumer-storm", "slow-consumer closes within slow-consumer-window that raise an alert (0: never)")
    .add(admin_storm_window, "slow-consumer-window", "window of slow-consumer-storm");
  opt_group{custom_options_, "auth"}
    .add(auth_rules.jwt_secret, "jwt-secret", "HS256 key for client JWTs (env JWT_SECRET)")
    .add(auth_public_key_file, "jwt-public-key-file", "PEM public key for RS256 client JWTs (env JWT_PUBLIC_KEY_FILE)")
    .add(auth_leeway, "leeway", "clock skew tolerated on exp and nbf")
    .add(auth_rules.private_topics, "private-topics", "topic patterns only the user {id} (the token's sub) may follow")
    .add(auth_rules.admin_role, "admin-role", "role claim admin namespaces require")
    .add(auth_rules.admin_namespaces, "admin-namespaces", "Socket.IO namespaces only admin-role clients may connect to");
  opt_group{custom_options_, "history"}
    .add(history_rules, "rules", "per topic pattern: \"trade@*=size:1000,ttl:5min\" (first match wins)")
    .add(history_size, "size", "events a topic no rule matches retains (0: none)")
    .add(history_ttl, "ttl", "how long a topic no rule matches retains an event")
    .add(history_max_bytes, "max-bytes", "bytes all topics together retain; past it the appending topic evicts its oldest");
  opt_group{custom_options_, "topic"}
    .add(idle_grace, "idle-grace", "stop a topic this long after its last subscriber left")
    .add(restart_burst, "restart-burst", "failures of one topic tolerated within restart-window")
    .add(restart_window, "restart-window", "window for counting a topic's failures")
    .add(restart_backoff, "restart-backoff", "first delay before restarting a topic that fails too often (doubles)")
    .add(restart_backoff_max, "restart-backoff-max", "longest restart delay");
  protection.bind(custom_options_);
  kafka.bind(custom_options_);
  cluster.bind(custom_options_);
}

void node_config::apply_environment(const std::vector<std::string>& cli_args) {
  auto env = [](const char* name) -> const char* {
    auto v = std::getenv(name);
    return v && *v ? v : nullptr;
  };
  if (!flag_given(cli_args, "--ws.port")) {
    const char* port = env("WS_PORT");
    if (!port)
      port = env("PORT");
    if (port) {
      char* end = nullptr;
      auto v = std::strtol(port, &end, 10);
      if (*end == '\0' && v >= 0 && v <= 65535)
        ws_port = static_cast<uint16_t>(v);
      else
        spdlog::warn("config.bad_env WS_PORT/PORT={} ignored", port);
    }
  }
  if (!flag_given(cli_args, "--ws.host"))
    if (auto host = env("WS_HOST"))
      ws_host = host;
  if (!flag_given(cli_args, "--admin.port")) {
    if (auto port = env("ADMIN_PORT")) {
      char* end = nullptr;
      auto v = std::strtol(port, &end, 10);
      if (*end == '\0' && v >= 0 && v <= 65535)
        admin_port = static_cast<uint16_t>(v);
      else
        spdlog::warn("config.bad_env ADMIN_PORT={} ignored", port);
    }
  }
  if (!flag_given(cli_args, "--admin.secret"))
    if (auto secret = env("ADMIN_SECRET"))
      admin_secret = secret;
  protection.apply_environment(cli_args);
  kafka.apply_environment(cli_args);
  cluster.apply_environment(cli_args);
  if (!flag_given(cli_args, "--auth.jwt-secret"))
    if (auto secret = env("JWT_SECRET"))
      auth_rules.jwt_secret = secret;
  if (!flag_given(cli_args, "--auth.jwt-public-key-file"))
    if (auto file = env("JWT_PUBLIC_KEY_FILE"))
      auth_public_key_file = file;
  if (!flag_given(cli_args, "--redis.url")) {
    if (auto url = env("REDIS_URL")) {
      redis_url = url;
    } else if (env("REDIS_HOST") || env("REDIS_PORT")) {
      std::string cred;
      if (auto pw = env("REDIS_PASSWORD"))
        cred = std::string{":"} + pw + "@";
      redis_url = "redis://" + cred + (env("REDIS_HOST") ? env("REDIS_HOST") : "127.0.0.1")
                  + ":" + (env("REDIS_PORT") ? env("REDIS_PORT") : "6379");
    }
  }
}

void node_config::admin_events(std::chrono::milliseconds& stats_interval, alert_settings& alerts) const {
  stats_interval = std::max(std::chrono::milliseconds{10}, as<std::chrono::milliseconds>(admin_stats_interval));
  alerts.storm_closes = admin_storm_closes;
  alerts.storm_window = std::max(std::chrono::milliseconds{1}, as<std::chrono::milliseconds>(admin_storm_window));
}

routing_settings node_config::routing() const {
  routing_settings r;
  r.max_subscriptions = max_subscriptions;
  r.topic_idle_grace = as<std::chrono::milliseconds>(idle_grace);
  r.node_id = node_id;
  r.restart_burst = restart_burst;
  r.restart_window = as<std::chrono::milliseconds>(restart_window);
  r.restart_backoff = as<std::chrono::milliseconds>(restart_backoff);
  r.restart_backoff_max = std::max(r.restart_backoff,
                                   as<std::chrono::milliseconds>(restart_backoff_max));
  protection.apply(r.inbound); // edge() reported any bad value
  r.track_membership = socketio_redis_emitter; // emits with except / several rooms
  r.max_rooms_per_namespace = max_rooms_per_namespace;
  r.users = std::make_shared<user_registry>(max_channels_per_user);
  return r;
}

std::optional<std::string> node_config::history(history_settings& out) const {
  out.fallback = history_limits{history_size, as<std::chrono::milliseconds>(history_ttl)};
  out.budget = std::make_shared<history_budget>(history_max_bytes);
  out.rules.clear();
  for (auto& text : history_rules) {
    std::string error;
    auto rule = parse_history_rule(text, error);
    if (!rule)
      return "history.rules: '" + text + "': " + error;
    out.rules.push_back(std::move(*rule));
  }
  return std::nullopt;
}

std::optional<std::string> node_config::auth(auth_settings& out) const {
  out = auth_rules;
  out.admin_secret = admin_secret;
  out.leeway = std::max(std::chrono::seconds{0}, as<std::chrono::seconds>(auth_leeway));
  for (auto& pattern : out.private_topics)
    if (pattern.find("{id}") == std::string::npos)
      return "auth.private-topics: '" + pattern + "' has no {id}";
  // A user's own Socket.IO rooms are private to that user.
  for (auto& room : dialect.user_rooms) {
    if (room.find("{id}") == std::string::npos)
      return "dialects.socketio-user-rooms: '" + room + "' has no {id}";
    auto& p = out.private_topics;
    if (std::find(p.begin(), p.end(), room) == p.end())
      p.push_back(room);
  }
  if (!auth_public_key_file.empty()) {
    std::ifstream in{auth_public_key_file};
    std::stringstream pem;
    pem << in.rdbuf();
    if (!in || pem.str().find("-----BEGIN") == std::string::npos)
      return "auth.jwt-public-key-file: cannot read a PEM key from '" + auth_public_key_file + "'";
    out.jwt_public_key = pem.str();
  }
  return std::nullopt;
}

void node_config::apply_dialects() const {
  dialects() = dialect;
  dialects().socketio_namespace_topics = socketio_redis_emitter; // namespace-wide emits
}

std::optional<std::string> node_config::edge(net::edge_settings& e) const {
  if (dialect.namespaces.size() > metrics::max_namespaces)
    return "dialects.socketio-namespaces: at most " + std::to_string(metrics::max_namespaces)
           + " namespaces";
  e.host = ws_host;
  e.port = ws_port;
  e.endpoints.clear();
  for (auto& spec : ws_endpoints) {
    auto eq = spec.rfind('=');
    if (eq == std::string::npos || spec.empty() || spec[0] != '/'
        || !is_known_dialect(spec.substr(eq + 1)))
      return "ws.endpoints: bad entry '" + spec
             + "' (expected /path=native|action|stream|typed|socketio|auto)";
    e.endpoints.emplace_back(spec.substr(0, eq), spec.substr(eq + 1));
  }
  e.max_frame_bytes = max_frame_bytes;
  e.max_http_body_bytes = max_http_body_bytes;
  e.ping_interval = std::max(std::chrono::seconds{1}, as<std::chrono::seconds>(ping_interval));
  e.pong_timeout = std::max(std::chrono::seconds{1}, as<std::chrono::seconds>(pong_timeout));
  e.handshake_timeout = std::max(std::chrono::seconds{1}, as<std::chrono::seconds>(handshake_timeout));
  e.outbound_max_messages = outbound_max_messages;
  e.outbound_max_bytes = outbound_max_bytes;
  if (slow_consumer_policy == "disconnect")
    e.slow_consumer_policy = net::edge_settings::slow_policy::disconnect;
  else if (slow_consumer_policy == "drop-oldest")
    e.slow_consumer_policy = net::edge_settings::slow_policy::drop_oldest;
  else if (slow_consumer_policy == "conflate")
    e.slow_consumer_policy = net::edge_settings::slow_policy::conflate;
  else
    return "ws.slow-consumer-policy: '" + slow_consumer_policy
           + "' (expected disconnect, drop-oldest or conflate)";
  e.io_threads = static_cast<int>(std::clamp<int64_t>(io_threads, 1, 64));
  e.io_actor_jobs = std::min<size_t>(io_actor_jobs, 4096);
  e.pace_above = static_cast<double>(pace_above);
  e.pace_interval = std::clamp(as<std::chrono::microseconds>(pace_interval),
                               std::chrono::microseconds{1'000}, std::chrono::microseconds{1'000'000});
  e.send_batch = static_cast<unsigned>(std::min<size_t>(send_batch, 4096));
  e.inbound_queue = inbound_queue;
  if (auto err = protection.apply(e.admission))
    return err;
  if (inbound_settings checked; auto err = protection.apply(checked))
    return err;
  return std::nullopt;
}

demo_feed_settings node_config::demo_feed() const {
  demo_feed_settings d;
  d.symbols = demo_symbols;
  d.rate = demo_rate;
  return d;
}

} // namespace tickgate

namespace tickgate {

namespace {

// One `key=value` entry of an INI file, with the line it starts on (a list
// or map value may continue over the following lines).
struct ini_entry {
  std::string section;
  std::string key;
  std::string text; // the entry as written, continuation lines included
  size_t line = 0;
};

std::string_view trimmed(std::string_view s) {
  auto first = s.find_first_not_of(" \t\r");
  if (first == std::string_view::npos)
    return {};
  auto last = s.find_last_not_of(" \t\r");
  return s.substr(first, last - first + 1);
}

// How many brackets the line leaves open (outside quotes and comments).
int open_brackets(std::string_view line) {
  int depth = 0;
  char quote = 0;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quote) {
      if (c == '\\')
        ++i;
      else if (c == quote)
        quote = 0;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == ';') {
      break;
    } else if (c == '[' || c == '{') {
      ++depth;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return depth;
}

// Splits an INI file into its entries; an error names a line that is
// neither a section, a comment nor key=value.
caf::expected<std::vector<ini_entry>> read_entries(std::istream& in, size_t& bad_line) {
  std::vector<ini_entry> out;
  std::string section = "global";
  std::string line;
  int depth = 0;
  for (size_t n = 1; std::getline(in, line); ++n) {
    if (depth > 0) { // continues the previous entry's value
      out.back().text += '\n' + line;
      depth += open_brackets(line);
      continue;
    }
    auto t = trimmed(line);
    if (t.empty() || t.front() == ';')
      continue;
    if (t.front() == '[') {
      auto close = t.find(']');
      if (close == std::string_view::npos) {
        bad_line = n;
        return caf::make_error(caf::pec::unexpected_character);
      }
      section = std::string{trimmed(t.substr(1, close - 1))};
      continue;
    }
    auto eq = t.find('=');
    if (eq == std::string_view::npos || trimmed(t.substr(0, eq)).empty()) {
      bad_line = n;
      return caf::make_error(caf::pec::unexpected_character);
    }
    out.push_back({section, std::string{trimmed(t.substr(0, eq))}, line, n});
    depth = open_brackets(t.substr(eq + 1));
  }
  return out;
}

// The value of `key` in `section` as CAF's own INI reader makes it.
std::optional<caf::config_value> parse_entry(const ini_entry& e) {
  std::istringstream one{"[" + e.section + "]\n" + e.text + "\n"};
  auto parsed = caf::actor_system_config::parse_config(one);
  if (!parsed)
    return std::nullopt;
  // CAF keeps [global] entries at the top level, every other section nested.
  const caf::settings* dict = &*parsed;
  if (e.section != "global") {
    auto sec = parsed->find(e.section);
    if (sec == parsed->end())
      return std::nullopt;
    dict = caf::get_if<caf::config_value::dictionary>(&sec->second.get_data());
    if (!dict)
      return std::nullopt;
  }
  auto value = dict->find(e.key);
  if (value == dict->end())
    return std::nullopt;
  return value->second;
}

} // namespace

std::optional<std::string> node_config::check_config_file() const {
  std::ifstream in{config_file_path};
  if (!in)
    return std::nullopt; // no file: the defaults and flags apply
  auto where = [&](size_t line) { return config_file_path + ":" + std::to_string(line) + ": "; };
  size_t bad_line = 0;
  auto entries = read_entries(in, bad_line);
  if (!entries)
    return where(bad_line) + "expected [section] or key=value";
  for (auto& e : *entries) {
    auto name = e.section + "." + e.key;
    auto* opt = custom_options_.qualified_name_lookup(e.section, e.key);
    if (!opt)
      return where(e.line) + "unknown key '" + name + "'";
    auto value = parse_entry(e);
    if (!value)
      return where(e.line) + "cannot read the value of '" + name + "'";
    if (opt->check(*value)) {
      auto type_name = opt->type_name(); // CAF's own string_view
      std::string type{type_name.data(), type_name.size()};
      auto msg = where(e.line) + "'" + name + "' takes a " + type + ", not " + caf::to_string(*value);
      // CAF reads 20 as an integer, which no floating-point option takes.
      if (type == "real64" && caf::holds_alternative<caf::config_value::integer>(value->get_data()))
        msg += " (write " + caf::to_string(*value) + ".0)";
      return msg;
    }
  }
  return std::nullopt;
}

} // namespace tickgate
