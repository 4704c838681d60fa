#include "actors/node_actor.hpp"

#include <algorithm>
#include <charconv>

#include <caf/actor_cast.hpp>
#include <caf/event_based_actor.hpp>
#include <spdlog/spdlog.h>

#include "actors/auth.hpp"
#include "actors/cluster_control.hpp"
#include "actors/inspector_actor.hpp"
#include "actors/metrics.hpp"
#include "actors/vocabulary.hpp"
#include "proto/json_writer.hpp"

namespace tickgate {

namespace {

using self_ptr = caf::stateful_actor<node_state>*;
using clock = std::chrono::steady_clock;

// How long a cluster-wide command waits for each member's answer; a member
// that takes longer is reported unreachable and the command answers anyway.
// Longer than the inspector's own gathering (3 s), which a member's answer
// may include; the asking inspector waits twice that.
constexpr auto control_timeout = std::chrono::seconds(4);

member_card own_card(self_ptr self) {
  auto card = self->state.settings.self;
  auto& m = node_metrics();
  card.connections = static_cast<uint64_t>(std::max<int64_t>(0, m.conn_open.load()));
  card.topics = static_cast<uint64_t>(std::max<int64_t>(0, m.topic_live.load()));
  return card;
}

// Tells the peer link the live members when they changed.
void tell_link(self_ptr self) {
  auto& st = self->state;
  if (!st.link)
    return;
  std::vector<std::string> names{st.settings.self.name};
  std::vector<peer_ref> refs{peer_ref{st.settings.self.name, {}}};
  for (auto* m : st.members.all())
    if (m->state == member_state::up) {
      names.push_back(m->card.name);
      refs.push_back(peer_ref{m->card.name, m->handle});
    }
  std::sort(names.begin(), names.end());
  if (names == st.told)
    return;
  st.told = std::move(names);
  self->send(st.link, members_atom_v, std::move(refs));
}

void update_gauges(self_ptr self) {
  auto& st = self->state;
  tell_link(self);
  auto& m = node_metrics();
  m.cluster_members_up = static_cast<int64_t>(st.members.count(member_state::up))
                         + (st.leaving ? 0 : 1);
  m.cluster_members_leaving = static_cast<int64_t>(st.members.count(member_state::leaving))
                              + (st.leaving ? 1 : 0);
  m.cluster_members_down = static_cast<int64_t>(st.members.count(member_state::down));
}

void alert(self_ptr self, const char* level, const char* kind, std::string message) {
  if (auto& insp = self->state.inspector)
    self->send(insp, alert_atom_v, std::string{level}, std::string{kind}, std::move(message));
}

bool split_address(const std::string& address, std::string& host, uint16_t& port) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0)
    return false;
  host = address.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  auto digits = std::string_view{address}.substr(colon + 1);
  unsigned value = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc{} || end != digits.data() + digits.size() || value == 0 || value > 65535)
    return false;
  port = static_cast<uint16_t>(value);
  return true;
}

// A dial to `address` failed: counted always, logged when the reason changes
// (a seed that stays unreachable is retried every cluster.retry).
void dial_failed(self_ptr self, const std::string& address, const std::string& why) {
  auto& st = self->state;
  st.dialing.erase(address);
  node_metrics().cluster_dial_failures.fetch_add(1, std::memory_order_relaxed);
  auto& last = st.refusals[address];
  if (last != why)
    spdlog::warn("node.dial_failed address={} reason={}", address, why);
  else
    spdlog::debug("node.dial_failed address={} reason={}", address, why);
  last = why;
}

void admitted(self_ptr self, const member_card& card, const caf::actor& handle,
              cluster_members::admission a) {
  if (a != cluster_members::admission::admitted)
    return;
  self->monitor(handle);
  node_metrics().cluster_joins.fetch_add(1, std::memory_order_relaxed);
  spdlog::info("node.member_up name={} address={}", card.name, card.address);
  alert(self, "info", "node_up", "cluster member " + card.name + " (" + card.address + ") is up");
  update_gauges(self);
}

void dial(self_ptr self, const std::string& address);

// Dials every member `view` names that this node does not have up.
void learn(self_ptr self, const std::vector<member_card>& view) {
  auto& st = self->state;
  for (auto& card : view) {
    if (card.name == st.settings.self.name || card.address == st.settings.self.address)
      continue;
    auto known = st.members.find(card.name);
    if (known && known->state != member_state::down && known->card.address == card.address)
      continue;
    if (st.members.is_up_at(card.address))
      continue;
    dial(self, card.address);
  }
}

// Connects to the node at `address` (TLS when configured) and joins it.
void dial(self_ptr self, const std::string& address) {
  auto& st = self->state;
  if (st.leaving || st.dialing.count(address) > 0)
    return;
  std::string host;
  uint16_t port = 0;
  if (!split_address(address, host, port)) {
    dial_failed(self, address, "not host:port");
    return;
  }
  st.dialing.insert(address);
  spdlog::debug("node.dial address={} tls={}", address, st.settings.tls);
  // Step 1: the connection (and the TLS handshake); CAF hands back the
  // node actor published at that port.
  self->request(st.settings.connector, st.settings.dial_timeout, caf::connect_atom_v, host, port)
    .then(
      [self, address](const caf::node_id& nid, caf::strong_actor_ptr& ptr,
                      const std::set<std::string>&) {
        auto& st = self->state;
        if (!ptr) {
          dial_failed(self, address, "no node actor published there");
          return;
        }
        if (nid == self->node()) { // a seed list naming this node
          st.dialing.erase(address);
          return;
        }
        auto peer = caf::actor_cast<caf::actor>(ptr);
        // Step 2: the join, with the cluster's name and secret.
        self->request(peer, st.settings.dial_timeout, join_atom_v, st.settings.cluster_name,
                      st.settings.secret, own_card(self))
          .then(
            [self, address, peer](const std::string& refusal, const member_card& responder,
                                  const std::vector<member_card>& view) {
              auto& st = self->state;
              if (!refusal.empty()) {
                dial_failed(self, address, "join refused: " + refusal);
                return;
              }
              st.dialing.erase(address);
              st.refusals.erase(address);
              auto a = st.members.admit(responder, peer, clock::now());
              if (a == cluster_members::admission::name_taken) {
                spdlog::warn("node.duplicate_name name={} address={}: a member with that node "
                             "id is up elsewhere", responder.name, address);
                return;
              }
              admitted(self, responder, peer, a);
              learn(self, view);
            },
            [self, address](caf::error& err) {
              dial_failed(self, address, "join: " + self->system().render(err));
            });
      },
      [self, address](caf::error& err) {
        dial_failed(self, address, self->system().render(err));
      });
}

std::pair<std::string, std::vector<member_card>>
refuse(const member_card& card, std::string why) {
  node_metrics().cluster_joins_refused.fetch_add(1, std::memory_order_relaxed);
  spdlog::warn("node.join_refused name={} address={} reason={}", card.name, card.address, why);
  return {std::move(why), {}};
}

// The up member whose node the message comes from (any of its actors: its
// peer link sends the routing messages), or null.
const cluster_members::member* sending_member(self_ptr self) {
  auto& sender = self->current_sender();
  if (!sender)
    return nullptr;
  for (auto* m : self->state.members.all())
    if (m->state == member_state::up && m->handle.node() == sender->node())
      return m;
  return nullptr;
}

bool from_member_node(self_ptr self) {
  return sending_member(self) != nullptr;
}

void ignore(const char* what) {
  node_metrics().cluster_ignored.fetch_add(1, std::memory_order_relaxed);
  spdlog::debug("node.ignored message={} from a non-member", what);
}

void tick(self_ptr self) {
  auto& st = self->state;
  auto now = clock::now();
  // Heartbeats first, so a member that is only slow is not timed out by us
  // while we keep it waiting.
  auto card = own_card(self);
  auto view = st.members.up_cards();
  for (auto& h : st.members.up_handles()) {
    self->send(h, beat_atom_v, card, view);
    ++st.beats_out;
  }
  for (auto& name : st.members.sweep(now, st.settings.failure_timeout, st.settings.forget_after)) {
    node_metrics().cluster_failures.fetch_add(1, std::memory_order_relaxed);
    spdlog::error("node.member_down name={} reason=no heartbeat for {} ms", name,
                  st.settings.failure_timeout.count());
    alert(self, "critical", "node_down",
          "cluster member " + name + " is down: no heartbeat for "
            + std::to_string(st.settings.failure_timeout.count()) + " ms");
  }
  if (now - st.last_retry >= st.settings.retry) {
    st.last_retry = now;
    for (auto& seed : st.settings.seeds)
      if (seed != st.settings.self.address && !st.members.is_up_at(seed))
        dial(self, seed);
    // A member lost to a partition (or restarted at the same address) comes
    // back through a dial of its own address.
    for (auto* m : st.members.all())
      if (m->state == member_state::down && !st.members.is_up_at(m->card.address))
        dial(self, m->card.address);
  }
  update_gauges(self);
  self->delayed_send(self, st.settings.heartbeat, tick_atom_v);
}

std::string members_json(self_ptr self) {
  auto& st = self->state;
  auto now = clock::now();
  auto ms = [&](clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(now - t).count();
  };
  std::string out;
  json_writer w{out};
  w.begin_object()
    .field("ok", true)
    .field("cluster", st.settings.enabled ? st.settings.cluster_name : std::string{})
    .field("enabled", st.settings.enabled)
    .field("self", st.settings.self.name)
    .field("tls", st.settings.tls)
    .key("members")
    .begin_array();
  auto me = own_card(self);
  w.begin_object()
    .field("id", me.name)
    .field("address", me.address)
    .field("http_port", me.http_port)
    .field("state", st.leaving ? "leaving" : "up")
    .field("self", true)
    .field("connections", me.connections)
    .field("topics", me.topics)
    .field("last_heartbeat_ms", 0)
    .field("since_ms", ms(st.started))
    .end_object();
  for (auto* m : st.members.all())
    w.begin_object()
      .field("id", m->card.name)
      .field("address", m->card.address)
      .field("http_port", m->card.http_port)
      .field("state", to_string(m->state))
      .field("self", false)
      .field("connections", m->card.connections)
      .field("topics", m->card.topics)
      .field("last_heartbeat_ms", ms(m->last_beat))
      .field("since_ms", ms(m->since))
      .end_object();
  w.end_array()
    .field("up", node_metrics().cluster_members_up.load())
    .field("down", node_metrics().cluster_members_down.load())
    .end_object();
  return out;
}

std::string control_failure(std::string_view code, std::string_view message) {
  std::string out;
  json_writer{out}.begin_object().field("ok", false).field("code", code).field("error", message).end_object();
  return out;
}

std::string why_unanswered(self_ptr self, const caf::error& err) {
  if (err == caf::sec::request_timeout)
    return "no answer within " + std::to_string(control_timeout.count()) + " s";
  return self->system().render(err);
}

// This node's part of a cluster-wide command: its inspector's answer.
caf::result<std::string> run_here(self_ptr self, const std::string& command,
                                  const std::vector<std::string>& args) {
  auto rp = self->make_response_promise<std::string>();
  self->request(self->state.inspector, control_timeout, control_atom_v, command, args)
    .then([rp](std::string& json) mutable { rp.deliver(std::move(json)); },
          [self, rp](caf::error& err) mutable {
            rp.deliver(control_failure("internal", why_unanswered(self, err)));
          });
  return rp;
}

// Runs `command` on this node and every up member at once and merges what
// arrives within control_timeout; down members are reported, not asked.
caf::result<std::string> run_everywhere(self_ptr self, const std::string& command,
                                        const std::vector<std::string>& args) {
  auto& st = self->state;
  struct pending {
    std::vector<node_answer> answers; // this node first, then members by name
    size_t left = 0;
    caf::typed_response_promise<std::string> rp;
    std::string command;
  };
  auto p = std::make_shared<pending>();
  p->rp = self->make_response_promise<std::string>();
  p->command = command;
  std::vector<std::pair<size_t, caf::actor>> asks{{0, st.inspector}};
  p->answers.push_back({st.settings.self.name, {}, {}});
  for (auto* m : st.members.all()) {
    if (m->state == member_state::up) {
      asks.emplace_back(p->answers.size(), m->handle);
      p->answers.push_back({m->card.name, {}, {}});
    } else if (m->state == member_state::down) {
      p->answers.push_back({m->card.name, {}, "member is down: not asked"});
    }
  }
  p->left = asks.size();
  auto settle = [p] {
    if (--p->left == 0)
      p->rp.deliver(merge_answers(p->command, p->answers));
  };
  for (auto& [i, handle] : asks)
    self->request(handle, control_timeout, control_atom_v, command, args)
      .then(
        [p, i = i, settle](std::string& json) {
          p->answers[i].json = std::move(json);
          settle();
        },
        [self, p, i = i, settle](caf::error& err) {
          p->answers[i].error = why_unanswered(self, err);
          settle();
        });
  spdlog::info("node.control command={} asked={}", command, asks.size());
  return p->rp;
}

actor_stats describe(self_ptr self) {
  auto& st = self->state;
  actor_stats s;
  s.kind = "node";
  s.name = st.settings.self.name;
  s.id = self->id();
  s.mailbox = self->mailbox().size();
  s.msgs_in = st.beats_in;
  s.msgs_out = st.beats_out;
  s.extra.emplace_back("cluster", json_quoted(st.settings.cluster_name));
  s.extra.emplace_back("address", json_quoted(st.settings.self.address));
  s.extra.emplace_back("members_up", std::to_string(st.members.count(member_state::up)));
  s.extra.emplace_back("members_down", std::to_string(st.members.count(member_state::down)));
  return s;
}

} // namespace

void add_cluster_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<member_card>("tickgate::member_card");
  cfg.add_message_type<std::vector<member_card>>("std::vector<tickgate::member_card>");
}

caf::behavior node_actor(self_ptr self, cluster_settings settings) {
  auto& st = self->state;
  st.settings = std::move(settings);
  st.members = cluster_members{st.settings.self.name};
  st.started = clock::now();
  update_gauges(self);
  self->set_down_handler([self](const caf::down_msg& msg) {
    auto& st = self->state;
    std::string name;
    switch (st.members.lost(msg.source, clock::now(), &name)) {
      case cluster_members::loss::left:
        node_metrics().cluster_leaves.fetch_add(1, std::memory_order_relaxed);
        spdlog::info("node.member_removed name={} reason=left", name);
        alert(self, "info", "node_left", "cluster member " + name + " left");
        break;
      case cluster_members::loss::failed:
        node_metrics().cluster_failures.fetch_add(1, std::memory_order_relaxed);
        spdlog::error("node.member_down name={} reason=link lost ({})", name,
                      self->system().render(msg.reason));
        alert(self, "critical", "node_down", "cluster member " + name + " is down: link lost");
        break;
      case cluster_members::loss::unknown:
        break;
    }
    update_gauges(self);
  });
  return {
    [self](use_atom, const std::string& address) {
      auto& st = self->state;
      if (!from_this_node(self) || !st.settings.enabled)
        return ignore("use");
      bool first = !st.ticking;
      st.settings.self.address = address;
      spdlog::info("node.cluster name={} self={} address={} seeds={} tls={}",
                   st.settings.cluster_name, st.settings.self.name, address,
                   st.settings.seeds.size(), st.settings.tls);
      if (first) {
        st.ticking = true;
        self->send(self, tick_atom_v);
      }
    },
    [self](join_atom, const std::string& cluster, const std::string& secret,
           const member_card& card) -> std::tuple<std::string, member_card, std::vector<member_card>> {
      auto& st = self->state;
      auto reply = [&](std::pair<std::string, std::vector<member_card>> r) {
        return std::make_tuple(std::move(r.first), own_card(self), std::move(r.second));
      };
      if (!st.settings.enabled || st.leaving)
        return reply(refuse(card, st.leaving ? "node is leaving" : "cluster is off"));
      if (cluster != st.settings.cluster_name)
        return reply(refuse(card, "cluster name '" + cluster + "' is not '"
                                           + st.settings.cluster_name + "'"));
      if (!st.settings.secret.empty() && !secret_matches(st.settings.secret, secret))
        return reply(refuse(card, "wrong cluster secret"));
      auto handle = caf::actor_cast<caf::actor>(self->current_sender());
      if (!handle || handle->node() == self->node())
        return reply(refuse(card, "not a remote node"));
      auto a = st.members.admit(card, handle, clock::now());
      if (a == cluster_members::admission::name_taken)
        return reply(refuse(card, "node id '" + card.name + "' is in use"));
      admitted(self, card, handle, a);
      // The joiner dials the members it learns of below; they learn of it
      // from it, and from our next heartbeat.
      return std::make_tuple(std::string{}, own_card(self), st.members.up_cards());
    },
    [self](beat_atom, const member_card& card, const std::vector<member_card>& view) {
      auto& st = self->state;
      bool was_down = false;
      auto addr = caf::actor_cast<caf::actor_addr>(self->current_sender());
      if (!st.members.beat(addr, card, clock::now(), &was_down)) {
        ignore("beat");
        return;
      }
      ++st.beats_in;
      if (was_down) {
        node_metrics().cluster_joins.fetch_add(1, std::memory_order_relaxed);
        spdlog::info("node.member_up name={} reason=heartbeats resumed", card.name);
        alert(self, "info", "node_up", "cluster member " + card.name + " is up again");
        update_gauges(self);
      }
      learn(self, view);
    },
    [self](leave_atom) {
      auto m = self->state.members.leaving(
        caf::actor_cast<caf::actor_addr>(self->current_sender()), clock::now());
      if (!m)
        return ignore("leave"); // not a member
      spdlog::info("node.member_leaving name={}", m->card.name);
      update_gauges(self);
    },
    [self](leave_atom, bool) {
      auto& st = self->state;
      if (!from_this_node(self)) {
        ignore("leave request");
        return false;
      }
      if (!st.leaving && st.settings.enabled) {
        st.leaving = true;
        for (auto& h : st.members.up_handles())
          self->send(h, leave_atom_v);
        spdlog::info("node.leaving members_told={}", st.members.count(member_state::up));
      }
      update_gauges(self);
      return true;
    },
    [self](use_atom, const caf::actor& link) {
      if (!from_this_node(self))
        return ignore("use");
      self->state.link = link;
      self->state.told.clear();
      tell_link(self);
    },
    // Routing between nodes: the peer link's business, from members only.
    [self](follow_atom, const std::string& topic, const std::string& epoch, uint64_t seq) {
      if (!from_member_node(self) || !self->state.link)
        return ignore("follow");
      self->delegate(self->state.link, follow_atom_v, topic, epoch, seq);
    },
    [self](unfollow_atom, const std::string& topic) {
      if (!from_member_node(self) || !self->state.link)
        return ignore("unfollow");
      self->delegate(self->state.link, unfollow_atom_v, topic);
    },
    [self](forward_atom, const std::vector<std::string>& frames, uint8_t hops) {
      if (!from_member_node(self) || !self->state.link)
        return ignore("forward");
      self->delegate(self->state.link, forward_atom_v, frames, hops);
    },
    // Operator commands for the whole cluster: from this node's inspector,
    // which checked the operator's secret ...
    [self](cluster_atom, const std::string& command,
           const std::vector<std::string>& args) -> caf::result<std::string> {
      auto& st = self->state;
      if (!from_this_node(self)) { // not for peers
        ignore("cluster");
        return caf::sec::request_receiver_down;
      }
      if (!is_cluster_command(command, args))
        return control_failure("bad_request", "'" + command + "' does not run cluster-wide");
      if (!st.inspector)
        return control_failure("unavailable", "the inspector has not started");
      // Without a cluster, an action is this node's alone, answered as before.
      if (!st.settings.enabled && (command == "kick" || command == "broadcast"))
        return run_here(self, command, args);
      return run_everywhere(self, command, args);
    },
    // ... and a member's part of one: the asking member's inspector checked
    // the secret, and being a member is the authorisation.
    [self](control_atom, const std::string& command,
           const std::vector<std::string>& args) -> caf::result<std::string> {
      auto* asker = sending_member(self);
      if (!asker) {
        ignore("control");
        return caf::sec::request_receiver_down;
      }
      if (!is_cluster_command(command, args) || !self->state.inspector)
        return control_failure("bad_request", "'" + command + "' does not run cluster-wide");
      spdlog::info("node.control_from_member member={} command={}", asker->card.name, command);
      return run_here(self, command, args);
    },
    [self](tick_atom) {
      if (from_this_node(self))
        tick(self);
    },
    [self](members_atom) -> caf::result<std::string> {
      if (!from_this_node(self))
        return caf::sec::request_receiver_down; // not for peers
      return members_json(self);
    },
    [self](register_atom, const caf::actor& inspector) {
      if (!from_this_node(self))
        return ignore("register");
      self->state.inspector = inspector;
      register_with(self, inspector, "node");
    },
    [self](inspect_atom) -> caf::result<actor_stats> {
      if (!from_this_node(self))
        return caf::sec::request_receiver_down;
      return describe(self);
    },
    [self](stop_atom) {
      if (from_this_node(self))
        self->quit();
    },
  };
}

} // namespace tickgate
