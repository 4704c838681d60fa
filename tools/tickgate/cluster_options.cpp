#include "tools/tickgate/cluster_options.hpp"

#include <fstream>

#include <caf/config_option_adder.hpp>

#include "tools/tickgate/env_vars.hpp"

namespace tickgate {

void cluster_options::bind(caf::config_option_set& opts) {
  caf::config_option_adder{opts, "cluster"}
    .add(port, "port", "cluster listener port (CAF middleman); 0: no cluster (env CLUSTER_PORT)")
    .add(pick_port, "pick-port", "cluster on, listening on a free port (reported in the banner and ready file)")
    .add(host, "host", "cluster listener address; a non-loopback one needs TLS or cluster.insecure (env CLUSTER_HOST)")
    .add(advertise, "advertise", "host:port other nodes dial to reach this one (default: host:port)")
    .add(seeds, "seeds", "host:port of nodes to join through; any one up is enough (env CLUSTER_SEEDS, comma-separated)")
    .add(name, "name", "cluster name; nodes of another cluster are refused (env CLUSTER_NAME)")
    .add(secret, "secret", "shared secret a joining node must present (env CLUSTER_SECRET)")
    .add(insecure, "insecure", "allow plain TCP on a non-loopback cluster.host")
    .add(certificate, "certificate", "this node's certificate (PEM); with key and cafile the cluster runs over TLS")
    .add(key, "key", "the certificate's private key (PEM)")
    .add(passphrase, "passphrase", "the private key's passphrase, if any")
    .add(cafile, "cafile", "CA certificate(s) (PEM) a peer's certificate must be signed by")
    .add(heartbeat_interval, "heartbeat-interval", "how often a node tells every member it is alive")
    .add(failure_timeout, "failure-timeout", "a member silent this long is marked down")
    .add(retry_interval, "retry-interval", "how often unreachable seeds and down members are dialled again")
    .add(forget_after, "forget-after", "how long a down member stays listed")
    .add(relay_window, "relay-window", "relay frames toward one following node that may be unconfirmed; beyond, frames are dropped and its subscribers get a reset");
}

void cluster_options::apply_environment(const std::vector<std::string>& cli_args) {
  using env_vars::flag_given;
  using env_vars::get;
  if (!flag_given(cli_args, "--cluster.port")) {
    int64_t v = -1;
    env_vars::get_count("CLUSTER_PORT", v);
    if (v >= 0 && v <= 65535)
      port = static_cast<uint16_t>(v);
  }
  if (!flag_given(cli_args, "--cluster.host"))
    if (auto v = get("CLUSTER_HOST"))
      host = v;
  if (!flag_given(cli_args, "--cluster.seeds"))
    if (auto v = get("CLUSTER_SEEDS"))
      seeds = env_vars::split_list(v);
  if (!flag_given(cli_args, "--cluster.name"))
    if (auto v = get("CLUSTER_NAME"))
      name = v;
  if (!flag_given(cli_args, "--cluster.secret"))
    if (auto v = get("CLUSTER_SECRET"))
      secret = v;
}

bool is_loopback_host(const std::string& host) {
  return host == "localhost" || host == "::1" || host == "[::1]" || host.rfind("127.", 0) == 0;
}

namespace {

bool readable(const std::string& path) {
  std::ifstream in{path};
  return static_cast<bool>(in);
}

} // namespace

std::optional<std::string> cluster_options::apply(cluster_settings& out) const {
  using std::chrono::duration_cast;
  using std::chrono::milliseconds;
  out.enabled = enabled();
  out.cluster_name = name;
  out.secret = secret;
  out.seeds = seeds;
  out.tls = tls();
  if (name.empty())
    return "cluster.name: empty";
  bool any_tls = !certificate.empty() || !key.empty() || !cafile.empty();
  if (any_tls && (certificate.empty() || key.empty() || cafile.empty()))
    return "cluster.certificate, cluster.key and cluster.cafile: TLS needs all three";
  for (auto* path : {&certificate, &key, &cafile})
    if (!path->empty() && !readable(*path))
      return "cluster: cannot read '" + *path + "'";
  if (enabled() && !is_loopback_host(host) && !tls() && !insecure)
    return "cluster.host " + host + " is not a loopback address: configure TLS "
           "(cluster.certificate, cluster.key, cluster.cafile) or set cluster.insecure=true "
           "to send cluster traffic, the cluster secret included, in the clear";
  if (host == "0.0.0.0" || host == "::")
    if (enabled() && advertise.empty())
      return "cluster.host " + host + ": set cluster.advertise to the host:port peers dial";
  out.heartbeat = std::max(milliseconds{50}, duration_cast<milliseconds>(heartbeat_interval));
  out.failure_timeout = std::max(out.heartbeat * 2, duration_cast<milliseconds>(failure_timeout));
  out.retry = std::max(milliseconds{100}, duration_cast<milliseconds>(retry_interval));
  out.forget_after = std::max(out.failure_timeout, duration_cast<milliseconds>(forget_after));
  out.self.address = advertise; // or host:port once the listener is bound
  return std::nullopt;
}

} // namespace tickgate
