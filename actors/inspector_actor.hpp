#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/actor.hpp>
#include <caf/behavior.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/admin_alerts.hpp"
#include "actors/maintenance.hpp"
#include "actors/stats_topic.hpp"
#include "actors/vocabulary.hpp"

namespace tickgate {

struct inspector_settings {
  std::string secret;    // empty: no secret required
  std::string node_json; // static node facts for "info" (id, version, ports, mode), a JSON object
  caf::actor router;
  caf::actor bus;        // where "publish" goes (router or bridge)
  // Switched by "maintenance"; the edge reads it at every handshake (null: none).
  std::shared_ptr<maintenance_mode> maintenance;
  // admin.stats goes to the admin namespace's clients this often, while any is joined.
  std::chrono::milliseconds admin_stats_interval{5000};
  // $sys:stats gets an event this often while the topic lives.
  std::chrono::milliseconds stats_topic_interval{1000};
  std::string node_id;
  alert_settings alerts;
};

/// Answers operators (tickgatectl over CAF's middleman, /admin/... over HTTP).
/// Every actor registers at start; the inspector monitors them and asks them
/// to describe themselves (inspect_atom -> actor_stats) when a listing needs it.
///
/// Request: (admin_atom, secret, command, args) -> JSON text, always an object
/// with "ok": true and the result, or "ok": false, "code" (denied, not_found,
/// bad_request) and "error". Commands: info, stats (every metric, as in
/// /api/stats), actors [kind] [sort] [limit],
/// topics, connections, show <id|topic>, kick <conn-id> [user], restart <topic>,
/// publish <topic> <json>, broadcast <json>,
/// maintenance on|off [message] [retry-after seconds].
/// A last argument "cluster" (topics, connections, info; kick "" <user>;
/// broadcast <json>) runs the command on every up member through the node
/// actor and answers the merged result (actors/cluster_control.hpp).
/// (control_atom, command, args) from this node's node actor runs one of
/// those commands here without the secret: the node actor asks for an
/// operator whose secret an inspector checked, here or on another member.
///
/// Admin namespace clients (connection_admin.hpp): a registered connection
/// actor's (operate_atom, command, args) runs the same commands without the
/// secret (the connection checked the client's role); (watch_atom, bool)
/// puts it on or takes it off the list that gets admin.stats every
/// admin_stats_interval (the timer runs only while the list is not empty)
/// and admin.alert whenever the node raises an alert: a feed down or back
/// (alert_atom from the feed actors), a slow-consumer storm (slowclose_atom
/// from the sessions), history evictions by max-bytes (the eviction counter,
/// read at each 5 s sample).
///
/// System topics (actors/system_feed.hpp): (systopic_atom, topic, alive)
/// says $sys:stats came alive or ended; while it lives the inspector routes
/// one event (actors/stats_topic.hpp) to it each stats_topic_interval through
/// the router, on this node only: the metrics as they are then, the busiest
/// topics and the feeds as of the last 5 s sample (the mailbox sampling
/// already asks every topic and feed for its stats; asking 10,000 topics every
/// second instead cost a quarter of a core).
struct inspector_state {
  using kind_count = std::pair<const std::string, size_t>; // an element of `counts`
  struct entry {
    // The actor's kind and its live count. Elements of an unordered_map stay
    // where they are, so each actor keeps a pointer, not a copy of the name.
    kind_count* kind;
    caf::actor handle;
  };

  inspector_settings settings;
  std::unordered_map<caf::actor_id, entry> actors;
  std::vector<caf::actor> admins; // connections in an admin namespace (admin.stats, admin.alert)
  bool admin_stats_due = false;   // an adminstat_atom is on its way
  bool stats_topic_live = false;  // $sys:stats has a topic actor
  bool stats_topic_due = false;   // a systopic_atom tick is on its way
  topic_rates rates;              // for $sys:stats's events/s, between samples
  stats_listing listing;          // $sys:stats's topics and feeds, as of the last sample
  bool listing_rates_pending = false; // the listing has one sample only: no rates yet
  alert_watch alerts;
  std::unordered_map<std::string, size_t> counts; // per kind; never erased
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();

  static inline const char* name = "inspector";
};

caf::behavior inspector_actor(caf::stateful_actor<inspector_state>* self,
                              inspector_settings settings);

/// JSON object for one actor's stats.
std::string to_json(const actor_stats& s);

/// Registers the calling actor with `inspector` (no-op when null).
void register_with(caf::local_actor* self, const caf::actor& inspector,
                   const char* kind);

} // namespace tickgate
