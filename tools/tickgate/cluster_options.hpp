#pragma once

#include <optional>
#include <string>
#include <vector>

#include <caf/config_option_set.hpp>
#include <caf/timespan.hpp>

#include "actors/node_actor.hpp"

namespace tickgate {

/// The [cluster] options of a node: membership over CAF's middleman (TLS
/// through CAF's OpenSSL module when a certificate is configured). The
/// cluster is on when `port` is set. configs/tickgate.ini documents each.
struct cluster_options {
  uint16_t port = 0;                 // env CLUSTER_PORT; 0: no cluster
  bool pick_port = false;            // on, listening on a free port (tests, tools/cluster)
  std::string host = "127.0.0.1";    // env CLUSTER_HOST
  std::string advertise;             // host:port peers dial; empty: host:port
  std::vector<std::string> seeds;    // env CLUSTER_SEEDS (comma-separated)
  std::string name = "tickgate";     // env CLUSTER_NAME
  std::string secret;                // env CLUSTER_SECRET
  bool insecure = false;             // plain TCP on a non-loopback address
  std::string certificate;           // PEM; with key and cafile: TLS
  std::string key;
  std::string passphrase;
  std::string cafile;
  caf::timespan heartbeat_interval = std::chrono::seconds(1);
  caf::timespan failure_timeout = std::chrono::seconds(3);
  caf::timespan retry_interval = std::chrono::seconds(2);
  caf::timespan forget_after = std::chrono::minutes(1);
  size_t relay_window = 50'000;      // relay frames unconfirmed toward one node before drops

  /// Declares the options in section "cluster" of `opts`.
  void bind(caf::config_option_set& opts);

  /// CLUSTER_PORT, CLUSTER_HOST, CLUSTER_SEEDS, CLUSTER_NAME, CLUSTER_SECRET,
  /// unless the same option was given as a flag (`cli_args`: the raw arguments).
  void apply_environment(const std::vector<std::string>& cli_args);

  bool enabled() const { return port != 0 || pick_port; }
  bool tls() const { return !certificate.empty(); }

  /// Checks the options: TLS needs certificate, key and CA file together;
  /// a non-loopback listener needs TLS or `insecure`. Returns an error
  /// message, or fills the node actor's settings (all but `self.address`
  /// when the port is picked at start, and `connector`).
  std::optional<std::string> apply(cluster_settings& out) const;
};

/// Whether `host` is a loopback address (127.0.0.0/8, ::1, localhost).
bool is_loopback_host(const std::string& host);

} // namespace tickgate
