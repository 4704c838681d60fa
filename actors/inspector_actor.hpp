#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/actor.hpp>
#include <caf/behavior.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/vocabulary.hpp"

namespace tickgate {

struct inspector_settings {
  std::string secret;    // empty: no secret required
  std::string node_json; // static node facts for "info" (id, version, ports, mode), a JSON object
  caf::actor router;
  caf::actor bus;        // where "publish" goes (router or bridge)
};

/// Answers operators (tickgatectl over CAF's middleman, /admin/... over HTTP).
/// Every actor registers at start; the inspector monitors them and asks them
/// to describe themselves (inspect_atom -> actor_stats) when a listing needs it.
///
/// Request: (admin_atom, secret, command, args) -> JSON text, always an object
/// with "ok": true and the result, or "ok": false, "code" (denied, not_found,
/// bad_request) and "error". Commands: info, stats (every metric, as in
/// /api/stats), actors [kind] [sort] [limit],
/// topics, connections, show <id|topic>, kick <conn-id>, restart <topic>,
/// publish <topic> <json>, broadcast <json>.
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
