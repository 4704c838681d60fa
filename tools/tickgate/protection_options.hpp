#pragma once

#include <optional>
#include <string>
#include <vector>

#include <caf/config_option_set.hpp>
#include <caf/timespan.hpp>

#include "actors/rate_limit.hpp"
#include "net/admission.hpp"

namespace tickgate {

/// The [protection] options of a node: who may connect (origins, connection
/// caps, handshake rate) and what a connection may send (inbound rate limit,
/// idle timeout). configs/tickgate.ini documents each.
struct protection_options {
  // Handshake admission (net/admission.hpp).
  std::vector<std::string> allowed_origins; // empty: every origin (env ALLOWED_ORIGINS)
  size_t max_connections = 100000;          // env MAX_CONNECTIONS
  size_t max_connections_per_ip = 0;        // env MAX_CONNECTIONS_PER_IP
  // Whole numbers: CAF's INI reader leaves a double option unset when the
  // file says "50" instead of "50.0", silently.
  size_t handshake_rate = 0;                // per IP and second; 0: off
  size_t handshake_burst = 20;

  // Per connection (actors/rate_limit.hpp).
  size_t rate = 50;
  size_t burst = 100;
  std::vector<std::string> rate_overrides;  // "action=20:40", "socketio/market=5:10"
  size_t abuse_drops = 500;
  caf::timespan abuse_window = std::chrono::seconds(10);
  caf::timespan notice_interval = std::chrono::seconds(1);
  caf::timespan idle_timeout = caf::timespan{0};

  /// Declares the options in section "protection" of `opts`.
  void bind(caf::config_option_set& opts);

  /// ALLOWED_ORIGINS, MAX_CONNECTIONS, MAX_CONNECTIONS_PER_IP, unless the
  /// same option was given as a flag (`cli_args`: the raw arguments).
  void apply_environment(const std::vector<std::string>& cli_args);

  /// Fills the settings; returns an error message for a bad value.
  std::optional<std::string> apply(net::admission_settings& out) const;
  std::optional<std::string> apply(inbound_settings& out) const;
};

} // namespace tickgate
