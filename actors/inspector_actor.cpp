#include "actors/inspector_actor.hpp"

#include <algorithm>
#include <memory>
#include <optional>

#include <caf/response_promise.hpp>
#include <caf/send.hpp>
#include <simdjson.h>
#include <spdlog/spdlog.h>

#include "actors/cluster_control.hpp"
#include "actors/metrics.hpp"
#include "proto/json_writer.hpp"
#include "proto/payload.hpp"
#include "proto/topic_name.hpp"

namespace tickgate {

namespace {

using self_ptr = caf::stateful_actor<inspector_state>*;
using namespace std::chrono_literals;

constexpr auto gather_timeout = 3s;

std::string failure(std::string_view code, std::string_view message) {
  std::string out;
  json_writer{out}.begin_object().field("ok", false).field("code", code).field("error", message).end_object();
  return out;
}

std::string ok() {
  return R"({"ok":true})";
}

// Whether `given` opens the inspector: any secret when none is configured
// (the admin port is loopback-only then), else the configured one.
bool secret_ok(const std::string& expected, const std::string& given) {
  return expected.empty() || secret_matches(expected, given);
}

std::vector<caf::actor> actors_of(self_ptr self, std::string_view kind) {
  std::vector<caf::actor> out;
  for (auto& [id, e] : self->state.actors)
    if (kind.empty() || e.kind->first == kind)
      out.push_back(e.handle);
  return out;
}

// Asks every target for its stats; `done` gets what arrived within the timeout.
void gather(self_ptr self, std::vector<caf::actor> targets,
            std::function<void(std::vector<actor_stats>)> done) {
  if (targets.empty()) {
    done({});
    return;
  }
  struct pending {
    std::vector<actor_stats> results;
    size_t left;
    std::function<void(std::vector<actor_stats>)> done;
  };
  auto p = std::make_shared<pending>(pending{{}, targets.size(), std::move(done)});
  for (auto& t : targets) {
    self->request(t, gather_timeout, inspect_atom_v)
      .then(
        [p](actor_stats& s) {
          p->results.push_back(std::move(s));
          if (--p->left == 0)
            p->done(std::move(p->results));
        },
        [p](caf::error&) { // the actor ended meanwhile or timed out
          if (--p->left == 0)
            p->done(std::move(p->results));
        });
  }
}

uint64_t sort_key(const actor_stats& s, std::string_view by) {
  if (by == "msgs")
    return s.msgs_in + s.msgs_out;
  if (by == "age")
    return static_cast<uint64_t>(s.age_ms);
  return s.mailbox;
}

std::string listing(std::string_view field, std::vector<actor_stats> all,
                    std::string_view sort_by, size_t limit) {
  if (!sort_by.empty())
    std::stable_sort(all.begin(), all.end(), [&](const auto& a, const auto& b) {
      return sort_key(a, sort_by) > sort_key(b, sort_by);
    });
  else
    std::sort(all.begin(), all.end(),
              [](const auto& a, const auto& b) { return a.name < b.name; });
  if (limit > 0 && all.size() > limit)
    all.resize(limit);
  std::string out;
  json_writer w{out};
  w.begin_object().field("ok", true).key(field).begin_array();
  for (auto& s : all)
    w.raw(to_json(s));
  w.end_array().end_object();
  return out;
}

int64_t uptime_ms(self_ptr self) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now()
                                                               - self->state.started)
    .count();
}

std::string info(self_ptr self) {
  auto& m = node_metrics();
  auto& st = self->state;
  // node_json names the Redis endpoint only in Redis mode.
  bool redis_configured = st.settings.node_json.find(R"("redis":)") != std::string::npos;
  std::string out;
  json_writer w{out};
  w.begin_object()
    .field("ok", true)
    .key("node")
    .raw(st.settings.node_json.empty() ? "{}" : st.settings.node_json)
    .field("uptime_ms", uptime_ms(self))
    .field("redis", m.bridge_link_up.load() ? "up" : redis_configured ? "down" : "none")
    .key("counts")
    .begin_object();
  for (auto& [kind, n] : st.counts)
    w.field(kind, n);
  w.end_object();
  w.key("maintenance").raw(st.settings.maintenance ? st.settings.maintenance->to_json()
                                                   : std::string{R"({"on":false})"});
  write_summary(m, w);
  w.end_object();
  return out;
}

// Every metric, grouped as in /api/stats: the admin.stats and admin.metrics payload.
std::string figures(self_ptr self) {
  std::string out;
  json_writer w{out};
  w.begin_object().field("uptime_ms", uptime_ms(self));
  write_stats(node_metrics(), w);
  w.end_object();
  return out;
}

std::string stats(self_ptr self) {
  return R"({"ok":true,)" + figures(self).substr(1);
}

int64_t unix_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// A system message to every client; returns how many were sent it.
size_t broadcast(self_ptr self, const std::string& json) {
  size_t n = 0;
  for (auto& [id, e] : self->state.actors)
    if (e.kind->first == "connection") {
      self->send(e.handle, broadcast_atom_v, json);
      ++n;
    }
  return n;
}

// Whether `who` is the actor of `kind` registered under its id (a remote
// actor may share an id, never the handle).
bool is_registered(self_ptr self, const caf::actor& who, std::string_view kind) {
  auto& actors = self->state.actors;
  auto i = actors.find(who.id());
  return who && i != actors.end() && i->second.handle == who && i->second.kind->first == kind;
}

bool is_connection(self_ptr self, const caf::actor& who) {
  return is_registered(self, who, "connection");
}

// tickgatectl asks for the whole cluster with a last argument "cluster"
// (topics/connections/info --cluster; kick --user and broadcast unless
// --local). Returns the arguments without it, or nullopt for a local command.
std::optional<std::vector<std::string>> cluster_scope(const std::string& command,
                                                      const std::vector<std::string>& args) {
  bool listing = command == "topics" || command == "connections" || command == "info";
  bool scoped = (listing && args.size() == 1)
                || (command == "kick" && args.size() == 3 && args[0].empty())
                || (command == "broadcast" && args.size() == 2);
  if (!scoped || args.back() != "cluster")
    return std::nullopt;
  return std::vector<std::string>(args.begin(), args.end() - 1);
}

// Logs the alert and pushes it to the admin namespace's clients.
void raise_alert(self_ptr self, admin_alert a) {
  a.ts_ms = unix_ms();
  node_metrics().node_alerts.fetch_add(1, std::memory_order_relaxed);
  spdlog::warn("admin.alert level={} kind={} message={}", a.level, a.kind, a.message);
  auto json = a.to_json();
  for (auto& c : self->state.admins)
    self->send(c, adminev_atom_v, std::string{"admin.alert"}, json);
}

void arm_admin_stats(self_ptr self) {
  auto& st = self->state;
  if (st.admin_stats_due || st.admins.empty())
    return;
  st.admin_stats_due = true;
  self->delayed_send(self, st.settings.admin_stats_interval, adminstat_atom_v);
}

void arm_stats_topic(self_ptr self) {
  auto& st = self->state;
  if (st.stats_topic_due || !st.stats_topic_live)
    return;
  st.stats_topic_due = true;
  self->delayed_send(self, st.settings.stats_topic_interval, systopic_atom_v);
}

// Refreshes $sys:stats's busiest topics and feeds from a gather of every
// actor's stats (others are ignored).
void refresh_listing(self_ptr self, const std::vector<actor_stats>& all) {
  auto& st = self->state;
  std::vector<actor_stats> topics, feeds;
  for (auto& s : all)
    if (s.kind == "topic")
      topics.push_back(s);
    else if (s.kind == "bridge")
      feeds.push_back(s);
  auto rates = st.rates.update(topics, std::chrono::steady_clock::now());
  st.listing = make_listing(topics, rates, std::move(feeds));
}

// The actors $sys:stats lists: topics and feeds.
std::vector<caf::actor> listed_actors(self_ptr self) {
  auto targets = actors_of(self, "topic");
  auto feeds = actors_of(self, "bridge");
  targets.insert(targets.end(), feeds.begin(), feeds.end());
  return targets;
}

void publish_stats_topic(self_ptr self) {
  auto& st = self->state;
  if (!st.settings.router)
    return;
  auto p = std::make_shared<publication>();
  p->topic = std::string{stats_topic};
  p->payload = stats_payload(node_metrics(), st.settings.node_id, unix_ms(), uptime_ms(self),
                             st.listing,
                             st.settings.maintenance ? st.settings.maintenance->to_json()
                                                     : std::string{});
  p->kind = payload_kind::json;
  p->ts_us = now_us();
  p->snapshot = true; // each event is complete: the latest one is the snapshot
  self->send(st.settings.router, route_atom_v, publication_batch{std::move(p)});
}

bool parse_u64(std::string_view s, uint64_t& out) {
  if (s.empty() || s.size() > 19) // more digits could overflow
    return false;
  out = 0;
  for (char c : s) {
    if (c < '0' || c > '9')
      return false;
    out = out * 10 + static_cast<uint64_t>(c - '0');
  }
  return true;
}

// Finds an actor by id (topics by name are looked up by gathering them).
caf::actor find(self_ptr self, const std::string& key, std::string_view kind = {}) {
  uint64_t id = 0;
  auto& actors = self->state.actors;
  if (parse_u64(key, id)) {
    if (auto i = actors.find(id); i != actors.end() && (kind.empty() || i->second.kind->first == kind))
      return i->second.handle;
    return {};
  }
  return {};
}

bool valid_json(std::string_view text) {
  return classify_payload(text) == payload_kind::json;
}

// Closes every connection of `user` (as the connection stats name it).
caf::result<std::string> kick_user(self_ptr self, const std::string& user) {
  auto rp = self->make_response_promise<std::string>();
  gather(self, actors_of(self, "connection"),
         [self, rp, user, quoted = json_quoted(user)](std::vector<actor_stats> all) mutable {
           size_t kicked = 0;
           for (auto& s : all)
             for (auto& [key, value] : s.extra)
               if (key == "user" && value == quoted) {
                 if (auto conn = find(self, std::to_string(s.id), "connection")) {
                   self->send(conn, kick_atom_v);
                   ++kicked;
                 }
               }
           if (kicked == 0) {
             rp.deliver(failure("not_found", "no connection of user '" + user + "'"));
             return;
           }
           spdlog::info("admin.kick user={} connections={}", user, kicked);
           std::string out;
           json_writer{out}.begin_object().field("ok", true).field("kicked", kicked).end_object();
           rp.deliver(std::move(out));
         });
  return rp;
}

// Switches maintenance mode and tells every client in its own dialect.
std::string maintenance(self_ptr self, const std::string& state, const std::string& message,
                        const std::string& retry_after) {
  auto* mode = self->state.settings.maintenance.get();
  if (!mode)
    return failure("internal", "maintenance mode is not available on this node");
  if (state != "on" && state != "off")
    return failure("bad_request", "usage: maintenance on|off [message] [retry-after seconds]");
  uint64_t retry = maintenance_mode::default_retry_after_s;
  if (!retry_after.empty() && (!parse_u64(retry_after, retry) || retry > 86400))
    return failure("bad_request", "retry-after is a number of seconds, at most 86400");
  bool was_on = mode->on();
  std::string notice;
  json_writer w{notice};
  w.begin_object().field("event", "maintenance").field("state", state);
  if (state == "on") {
    auto why = message.empty() ? std::string{"the node is going into maintenance"} : message;
    mode->enter(why, static_cast<uint32_t>(retry), unix_ms());
    w.field("message", why).field("retry_after", retry);
    spdlog::warn("admin.maintenance state=on retry_after={} message={}", retry, why);
  } else {
    mode->leave();
    spdlog::warn("admin.maintenance state=off");
  }
  w.end_object();
  // Clients hear of a change, and of a new message or Retry-After while on.
  size_t clients = state == "on" || was_on ? broadcast(self, notice) : 0;
  std::string out;
  json_writer{out}
    .begin_object()
    .field("ok", true)
    .key("maintenance")
    .raw(mode->to_json())
    .field("clients", clients)
    .end_object();
  return out;
}

// A command for every member: the node actor asks them and merges the answers.
caf::result<std::string> run_cluster_wide(self_ptr self, const std::string& command,
                                          std::vector<std::string> args) {
  if (command == "broadcast" && !valid_json(args[0]))
    return failure("bad_request", "usage: broadcast <json>");
  auto node = actors_of(self, "node");
  if (node.empty())
    return failure("unavailable", "the node actor has not started");
  auto rp = self->make_response_promise<std::string>();
  // The node actor answers within its own bound per member; this one only
  // covers a node actor that cannot answer at all.
  self->request(node.front(), 2 * gather_timeout, cluster_atom_v, command, std::move(args))
    .then([rp](std::string& json) mutable { rp.deliver(std::move(json)); },
          [rp](caf::error& err) mutable { rp.deliver(failure("internal", caf::to_string(err))); });
  return rp;
}

// One operator command (tickgatectl, /admin/ over HTTP, the admin namespace).
caf::result<std::string> run_command(self_ptr self, const std::string& command,
                                     const std::vector<std::string>& args) {
  auto& st = self->state;
  if (auto local_args = cluster_scope(command, args))
    return run_cluster_wide(self, command, std::move(*local_args));
  auto arg = [&](size_t i) { return i < args.size() ? args[i] : std::string{}; };
  if (command == "info")
    return info(self);
  if (command == "stats")
    return stats(self);
  if (command == "actors" || command == "topics" || command == "connections") {
    auto kind = command == "actors" ? arg(0)
                : command == "topics" ? std::string{"topic"}
                                      : std::string{"connection"};
    auto sort_by = command == "actors" ? arg(1) : std::string{};
    uint64_t limit = 0;
    if (command == "actors" && !arg(2).empty() && !parse_u64(arg(2), limit))
      return failure("bad_request", "limit must be a number");
    if (!sort_by.empty() && sort_by != "mailbox" && sort_by != "msgs" && sort_by != "age")
      return failure("bad_request", "sort by mailbox, msgs or age");
    auto rp = self->make_response_promise<std::string>();
    auto field = command == "actors" ? std::string{"actors"} : command;
    gather(self, actors_of(self, kind),
           [rp, field, sort_by, limit](std::vector<actor_stats> all) mutable {
             rp.deliver(listing(field, std::move(all), sort_by, limit));
           });
    return rp;
  }
  if (command == "show") {
    auto key = arg(0);
    auto target = find(self, key);
    auto rp = self->make_response_promise<std::string>();
    auto targets = target ? std::vector<caf::actor>{target} : actors_of(self, "topic");
    gather(self, targets, [rp, key](std::vector<actor_stats> all) mutable {
      for (auto& s : all)
        if (std::to_string(s.id) == key || s.name == key) {
          std::string out;
          json_writer{out}.begin_object().field("ok", true).key("actor").raw(to_json(s)).end_object();
          rp.deliver(std::move(out));
          return;
        }
      rp.deliver(failure("not_found", "no actor, connection or topic '" + key + "'"));
    });
    return rp;
  }
  if (command == "nodes") {
    auto node = actors_of(self, "node");
    if (node.empty())
      return failure("unavailable", "the node actor has not started");
    auto rp = self->make_response_promise<std::string>();
    self->request(node.front(), gather_timeout, members_atom_v)
      .then([rp](std::string& json) mutable { rp.deliver(std::move(json)); },
            [rp](caf::error& err) mutable {
              rp.deliver(failure("internal", caf::to_string(err)));
            });
    return rp;
  }
  if (command == "kick" && arg(0).empty() && !arg(1).empty())
    return kick_user(self, arg(1));
  if (command == "kick") {
    auto conn = find(self, arg(0), "connection");
    if (!conn)
      return failure("not_found", "no connection with id '" + arg(0) + "'");
    self->send(conn, kick_atom_v);
    spdlog::info("admin.kick conn={}", arg(0));
    return ok();
  }
  if (command == "maintenance")
    return maintenance(self, arg(0), arg(1), arg(2));
  if (command == "restart") {
    if (!is_valid_topic(arg(0)))
      return failure("bad_request", "usage: restart <topic>");
    auto rp = self->make_response_promise<std::string>();
    self->request(st.settings.router, gather_timeout, restart_atom_v, arg(0))
      .then([rp](bool found) mutable {
              rp.deliver(found ? ok()
                               : failure("not_found", "no live topic of that name"));
            },
            [rp](caf::error& err) mutable {
              rp.deliver(failure("internal", caf::to_string(err)));
            });
    return rp;
  }
  if (command == "publish") {
    if (!is_valid_topic(arg(0)) || !valid_json(arg(1)))
      return failure("bad_request", "usage: publish <topic> <json>");
    auto p = std::make_shared<publication>();
    p->topic = arg(0);
    p->payload = arg(1);
    p->kind = payload_kind::json;
    p->ts_us = now_us();
    self->send(st.settings.bus, publish_atom_v, publication_batch{p});
    return ok();
  }
  if (command == "broadcast") {
    if (!valid_json(arg(0)))
      return failure("bad_request", "usage: broadcast <json>");
    auto clients = broadcast(self, arg(0));
    spdlog::info("admin.broadcast clients={}", clients);
    std::string out;
    json_writer{out}.begin_object().field("ok", true).field("clients", clients).end_object();
    return out;
  }
  return failure("bad_request", "unknown command '" + command + "'");
}

} // namespace

std::string to_json(const actor_stats& s) {
  std::string out;
  json_writer w{out};
  w.begin_object()
    .field("id", s.id)
    .field("kind", s.kind)
    .field("name", s.name)
    .field("mailbox", s.mailbox)
    .field("msgs_in", s.msgs_in)
    .field("msgs_out", s.msgs_out)
    .field("age_ms", s.age_ms)
    .field("restarts", s.restarts);
  for (auto& [k, v] : s.extra)
    w.key(k).raw(v);
  w.end_object();
  return out;
}

void register_with(caf::local_actor* self, const caf::actor& inspector,
                   const char* kind) {
  if (inspector)
    caf::send_as(caf::actor_cast<caf::actor>(self), inspector, register_atom_v,
                 std::string{kind});
}

caf::behavior inspector_actor(self_ptr self, inspector_settings settings) {
  self->state.settings = std::move(settings);
  self->state.alerts = alert_watch{self->state.settings.alerts};
  auto& own = *self->state.counts.try_emplace("inspector", 0).first;
  ++own.second;
  self->state.actors[self->id()] = inspector_state::entry{&own, caf::actor{self}};
  self->send(self, sample_atom_v);
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& st = self->state;
    if (auto i = st.actors.find(dm.source.id()); i != st.actors.end()) {
      if (auto& count = i->second.kind->second; count > 0)
        --count;
      st.actors.erase(i);
    }
    auto& admins = st.admins;
    admins.erase(std::remove(admins.begin(), admins.end(), dm.source), admins.end());
  });
  return {
    [self](use_atom, const caf::actor& router, const caf::actor& bus,
           const std::string& node_json) {
      auto& st = self->state.settings;
      st.router = router;
      st.bus = bus;
      st.node_json = node_json;
    },
    [self](sample_atom) { // sample the routing actors' mailboxes for /metrics
      std::vector<caf::actor> targets;
      for (auto& [id, e] : self->state.actors)
        if (e.kind->first != "connection")
          targets.push_back(e.handle);
      gather(self, std::move(targets), [self](std::vector<actor_stats> all) {
        uint64_t largest = 0;
        for (auto& s : all)
          largest = std::max(largest, s.mailbox);
        node_metrics().largest_mailbox.store(static_cast<int64_t>(largest));
        if (self->state.stats_topic_live)
          refresh_listing(self, all);
      });
      auto evicted = node_metrics().history_evicted_bytes.load(std::memory_order_relaxed);
      if (auto a = self->state.alerts.evictions(evicted, std::chrono::steady_clock::now()))
        raise_alert(self, std::move(*a));
      self->delayed_send(self, std::chrono::seconds(5), sample_atom_v);
    },
    [self](register_atom, const std::string& kind) {
      auto& st = self->state;
      auto who = caf::actor_cast<caf::actor>(self->current_sender());
      if (!who)
        return;
      self->monitor(who);
      auto& count = *st.counts.try_emplace(kind, 0).first;
      ++count.second;
      st.actors[who.id()] = inspector_state::entry{&count, who};
    },
    [self](admin_atom, const std::string& secret, const std::string& command,
           const std::vector<std::string>& args) -> caf::result<std::string> {
      auto& st = self->state;
      if (!secret_ok(st.settings.secret, secret)) {
        spdlog::warn("admin.denied command={}", command);
        return failure("denied", "access denied: wrong or missing secret");
      }
      return run_command(self, command, args);
    },
    [self](control_atom, const std::string& command,
           const std::vector<std::string>& args) -> caf::result<std::string> {
      // This node's part of a cluster-wide command, asked by its node actor
      // (for an operator here or, as a member, for one on another node).
      if (!is_registered(self, caf::actor_cast<caf::actor>(self->current_sender()), "node")
          || !is_cluster_command(command, args)) {
        spdlog::warn("admin.denied command={} reason=not this node's node actor", command);
        return failure("denied", "access denied");
      }
      return run_command(self, command, args);
    },
    [self](operate_atom, const std::string& command,
           const std::vector<std::string>& args) -> caf::result<std::string> {
      // Only this node's connection actors, which admitted the client by role.
      if (!is_connection(self, caf::actor_cast<caf::actor>(self->current_sender()))) {
        spdlog::warn("admin.denied command={} reason=not a local connection", command);
        return failure("denied", "access denied");
      }
      return run_command(self, command, args);
    },
    [self](watch_atom, bool joined) {
      auto who = caf::actor_cast<caf::actor>(self->current_sender());
      if (!is_connection(self, who))
        return;
      auto& admins = self->state.admins;
      admins.erase(std::remove(admins.begin(), admins.end(), who), admins.end());
      if (joined)
        admins.push_back(who);
      arm_admin_stats(self);
    },
    [self](adminstat_atom) {
      auto& st = self->state;
      st.admin_stats_due = false;
      if (st.admins.empty())
        return; // the timer stops with the last admin; watch_atom starts it again
      auto json = figures(self);
      for (auto& c : st.admins)
        self->send(c, adminev_atom_v, std::string{"admin.stats"}, json);
      arm_admin_stats(self);
    },
    [self](systopic_atom, const std::string& topic, bool alive) {
      if (topic != stats_topic)
        return; // the only system topic so far
      auto& st = self->state;
      bool fresh = alive && !st.stats_topic_live;
      st.stats_topic_live = alive;
      if (!fresh)
        return;
      // A listing now rather than at the next 5 s sample; events start after it.
      st.listing_rates_pending = true;
      gather(self, listed_actors(self), [self](std::vector<actor_stats> all) {
        refresh_listing(self, all);
        arm_stats_topic(self);
      });
    },
    [self](systopic_atom) {
      auto& st = self->state;
      st.stats_topic_due = false;
      if (!st.stats_topic_live)
        return; // the timer stops with the topic; its next follow starts it again
      if (st.listing_rates_pending) {
        // The first listing had no rates yet (one sample); a second, an
        // interval later, gives them without waiting for the 5 s sampling.
        st.listing_rates_pending = false;
        gather(self, listed_actors(self), [self](std::vector<actor_stats> all) {
          refresh_listing(self, all);
          publish_stats_topic(self);
          arm_stats_topic(self);
        });
        return;
      }
      publish_stats_topic(self);
      arm_stats_topic(self);
    },
    [self](alert_atom, const std::string& level, const std::string& kind,
           const std::string& message) {
      auto who = caf::actor_cast<caf::actor>(self->current_sender());
      if (!who || self->state.actors.count(who.id()) == 0)
        return; // only registered actors raise alerts
      raise_alert(self, admin_alert{level, kind, message, 0});
    },
    [self](slowclose_atom) {
      if (auto a = self->state.alerts.slow_close(std::chrono::steady_clock::now()))
        raise_alert(self, std::move(*a));
    },
    [self](broadcast_atom, const std::string& json, const std::string& event) {
      // A feed's node-wide system message (Kafka's system alerts).
      for (auto& c : actors_of(self, "connection"))
        self->send(c, broadcast_atom_v, json, event);
    },
    [self](inspect_atom) {
      actor_stats s;
      s.kind = "inspector";
      s.name = "inspector";
      s.id = self->id();
      s.mailbox = self->mailbox().size();
      s.extra.emplace_back("registered", std::to_string(self->state.actors.size()));
      return s;
    },
  };
}

} // namespace tickgate
