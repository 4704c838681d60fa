#include "tools/tickgate/protection_options.hpp"

#include <algorithm>
#include <cstdlib>

#include <caf/config_option_adder.hpp>
#include <spdlog/spdlog.h>

#include "tools/tickgate/env_vars.hpp"

namespace tickgate {

namespace {

using env_vars::flag_given;
using env_vars::split_list;

const char* env(const char* name) {
  return env_vars::get(name);
}

void env_count(const char* name, size_t& out) {
  env_vars::get_count(name, out);
}

bool known_override_key(std::string_view key) {
  auto slash = key.find('/');
  auto d = key.substr(0, slash);
  if (slash != std::string_view::npos && d != "socketio")
    return false; // only Socket.IO has namespaces
  return d == "native" || d == "action" || d == "stream" || d == "typed" || d == "socketio";
}

} // namespace

void protection_options::bind(caf::config_option_set& opts) {
  caf::config_option_adder{opts, "protection"}
    .add(allowed_origins, "allowed-origins", "Origin values allowed at the WebSocket handshake (\"*\", https://*.example.com); empty: all (env ALLOWED_ORIGINS, comma-separated)")
    .add(max_connections, "max-connections", "open WebSockets on this node; more get 503; 0: no cap (env MAX_CONNECTIONS)")
    .add(max_connections_per_ip, "max-connections-per-ip", "open WebSockets per client IP; more get 429; 0: no cap (env MAX_CONNECTIONS_PER_IP)")
    .add(handshake_rate, "handshake-rate", "WebSocket handshakes per second per client IP; more get 429; 0: no limit")
    .add(handshake_burst, "handshake-burst", "handshakes one IP may make at once before handshake-rate applies")
    .add(rate, "rate", "client messages per second per connection; 0: no limit")
    .add(burst, "burst", "client messages one connection may send at once")
    .add(rate_overrides, "rate-overrides", "rate:burst per dialect or Socket.IO namespace, e.g. \"action=20:40\", \"socketio/market=5:10\"")
    .add(abuse_drops, "abuse-drops", "rate-limited messages within abuse-window that close the connection (1008); 0: never")
    .add(abuse_window, "abuse-window", "window for counting abuse-drops")
    .add(notice_interval, "notice-interval", "at most one rate_limited error frame per connection this often")
    .add(idle_timeout, "idle-timeout", "close connections that have not subscribed within this (1008); 0s: off");
}

void protection_options::apply_environment(const std::vector<std::string>& cli_args) {
  if (!flag_given(cli_args, "--protection.allowed-origins"))
    if (auto v = env("ALLOWED_ORIGINS"))
      allowed_origins = split_list(v);
  if (!flag_given(cli_args, "--protection.max-connections="))
    env_count("MAX_CONNECTIONS", max_connections);
  if (!flag_given(cli_args, "--protection.max-connections-per-ip"))
    env_count("MAX_CONNECTIONS_PER_IP", max_connections_per_ip);
}

std::optional<std::string> protection_options::apply(net::admission_settings& out) const {
  // A list given as one comma-separated string (INI or flag) means the same as the env.
  out.allowed_origins.clear();
  for (auto& o : allowed_origins)
    for (auto& item : split_list(o))
      out.allowed_origins.push_back(item);
  out.max_connections = max_connections;
  out.max_connections_per_ip = max_connections_per_ip;
  if (handshake_rate > 0 && handshake_burst < 1)
    return "protection.handshake-burst: must be at least 1";
  out.handshake_rate = rate_spec{static_cast<double>(handshake_rate),
                                 static_cast<double>(handshake_burst)};
  return std::nullopt;
}

std::optional<std::string> protection_options::apply(inbound_settings& out) const {
  if (rate > 0 && burst < 1)
    return "protection.burst: must be at least 1";
  out.standard = rate_spec{static_cast<double>(rate), static_cast<double>(burst)};
  out.overrides.clear();
  for (auto& entry : rate_overrides) {
    auto eq = entry.find('=');
    auto spec = eq == std::string::npos ? std::nullopt
                                        : parse_rate_spec(std::string_view{entry}.substr(eq + 1));
    if (!spec || !known_override_key(std::string_view{entry}.substr(0, eq)))
      return "protection.rate-overrides: bad entry '" + entry
             + "' (expected native|action|stream|typed|socketio[/namespace]=rate[:burst])";
    out.overrides.emplace_back(entry.substr(0, eq), *spec);
  }
  out.abuse_drops = abuse_drops;
  out.abuse_window = std::chrono::duration_cast<std::chrono::milliseconds>(abuse_window);
  out.notice_interval = std::chrono::duration_cast<std::chrono::milliseconds>(notice_interval);
  out.idle_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(idle_timeout);
  return std::nullopt;
}

} // namespace tickgate
