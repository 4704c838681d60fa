#include "actors/router_actor.hpp"

#include <chrono>

#include <caf/event_based_actor.hpp>
#include <spdlog/fmt/fmt.h>
#include <spdlog/spdlog.h>

#include "actors/inspector_actor.hpp"
#include "actors/metrics.hpp"
#include "actors/topic_actor.hpp"

namespace tickgate {

namespace {

using self_ptr = caf::stateful_actor<router_state>*;

// Epochs are unique per topic incarnation: the node id (random at every
// process start) and a counter.
std::string next_epoch(self_ptr self) {
  auto& st = self->state;
  return fmt::format("{}-{}", st.settings.node_id, ++st.epochs_issued);
}

router_state::entry& find_or_spawn(self_ptr self, const std::string& name) {
  auto& st = self->state;
  auto i = st.topics.find(name);
  if (i != st.topics.end())
    return i->second;
  auto h = st.history.find(name);
  uint64_t restarts = h == st.history.end() ? 0 : h->second.restarts;
  auto topic = self->spawn(topic_actor, name, next_epoch(self),
                           caf::actor{self}, st.settings, st.feeds.size(), restarts);
  self->monitor(topic);
  for (auto& f : st.feeds)
    self->send(f, interest_atom_v, name, topic, true);
  return st.topics.emplace(name, router_state::entry{topic, 0}).first->second;
}

void route(self_ptr self, const publication_ptr& pub) {
  auto& st = self->state;
  if (auto i = st.topics.find(pub->topic); i != st.topics.end())
    self->send(i->second.topic, route_atom_v, pub);
  else
    node_metrics().topic_unrouted.fetch_add(1, std::memory_order_relaxed);
}

void route_batch(self_ptr self, const publication_batch& batch) {
  if (batch.size() == 1) {
    route(self, batch.front());
    return;
  }
  // One message per topic, publications in their original order.
  std::unordered_map<std::string_view, publication_batch> per_topic;
  for (auto& pub : batch)
    per_topic[pub->topic].push_back(pub);
  auto& topics = self->state.topics;
  for (auto& [name, pubs] : per_topic) {
    auto i = topics.find(std::string{name});
    if (i == topics.end())
      node_metrics().topic_unrouted.fetch_add(pubs.size(), std::memory_order_relaxed);
    else
      self->send(i->second.topic, route_atom_v, std::move(pubs));
  }
}

void tell_feeds_gone(self_ptr self, const std::string& name,
                     const caf::actor& topic) {
  for (auto& f : self->state.feeds)
    self->send(f, interest_atom_v, name, topic, false);
}

void forward_attach(self_ptr self, const std::string& name, uint64_t req,
                    const subscriber& s) {
  auto& h = self->state.history;
  if (auto i = h.find(name); i != h.end() && i->second.held) {
    self->state.held_attaches[name].emplace_back(req, s);
    return;
  }
  auto& e = find_or_spawn(self, name);
  ++e.attaches_forwarded;
  self->send(e.topic, attach_atom_v, req, s);
  self->send(s.conn, binding_atom_v, name, e.topic);
}

// Records a failure of `name`; holds its next start back when it fails too often.
void on_topic_failed(self_ptr self, const std::string& name) {
  auto& st = self->state;
  auto& h = st.history[name];
  auto now = std::chrono::steady_clock::now();
  ++h.restarts;
  node_metrics().topic_restarts.fetch_add(1, std::memory_order_relaxed);
  h.failures.push_back(now);
  while (!h.failures.empty() && now - h.failures.front() > st.settings.restart_window)
    h.failures.pop_front();
  if (h.failures.size() <= st.settings.restart_burst) {
    h.backoff = std::chrono::milliseconds{0};
    spdlog::warn("topic.restart name={} restarts={}", name, h.restarts);
    return;
  }
  h.backoff = h.backoff.count() == 0
                ? st.settings.restart_backoff
                : std::min(st.settings.restart_backoff_max, h.backoff * 2);
  h.held = true;
  spdlog::warn("topic.restart_backoff name={} failures_in_window={} delay_ms={}",
               name, h.failures.size(), h.backoff.count());
  self->delayed_send(self, h.backoff, backoff_atom_v, name);
}

} // namespace

caf::behavior router_actor(self_ptr self, routing_settings settings,
                           std::vector<caf::actor> feeds) {
  self->state.settings = std::move(settings);
  self->state.feeds = std::move(feeds);
  if (self->state.settings.node_id.empty())
    self->state.settings.node_id = "node";
  register_with(self, self->state.settings.inspector, "router");
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& topics = self->state.topics;
    for (auto i = topics.begin(); i != topics.end(); ++i) {
      if (i->second.topic.address() == dm.source) {
        // A topic that ends without stop_atom failed. Its subscribers' connection
        // actors see the same down message and attach again, which spawns a
        // new incarnation with a new epoch.
        auto name = i->first;
        spdlog::warn("topic.down name={} reason={}", name, caf::to_string(dm.reason));
        tell_feeds_gone(self, name, i->second.topic);
        topics.erase(i);
        on_topic_failed(self, name);
        return;
      }
    }
  });
  return {
    [self](attach_atom, uint64_t req, const std::vector<std::string>& names,
           const subscriber& s) {
      ++self->state.msgs_in;
      for (auto& name : names)
        forward_attach(self, name, req, s);
    },
    [self](history_atom, const history_query& q) {
      // A query starts the topic like an attach (so a poller's topic follows
      // its feed and retains events) and counts as one in the idle
      // handshake, so the topic cannot stop while the query is on its way.
      auto rp = self->make_response_promise();
      if (auto h = self->state.history.find(q.topic);
          h != self->state.history.end() && h->second.held) {
        rp.deliver(history_reply{q.topic, {}, 0, false, {}});
        return rp;
      }
      auto& e = find_or_spawn(self, q.topic);
      ++e.attaches_forwarded;
      rp.delegate(e.topic, history_atom_v, q);
      return rp;
    },
    [self](backoff_atom, const std::string& name) {
      auto& st = self->state;
      st.history[name].held = false;
      auto held = std::move(st.held_attaches[name]);
      st.held_attaches.erase(name);
      spdlog::info("topic.restart_resumed name={} waiting_attaches={}", name, held.size());
      for (auto& [req, s] : held)
        forward_attach(self, name, req, s);
    },
    [self](restart_atom, const std::string& name) {
      auto& topics = self->state.topics;
      auto i = topics.find(name);
      if (i == topics.end())
        return false;
      self->send(i->second.topic, fault_atom_v);
      return true;
    },
    [self](inspect_atom) {
      auto& st = self->state;
      actor_stats s;
      s.kind = "router";
      s.name = "router";
      s.id = self->id();
      s.mailbox = self->mailbox().size();
      s.msgs_in = st.msgs_in;
      s.age_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now() - st.started).count();
      s.extra.emplace_back("topics", std::to_string(st.topics.size()));
      s.extra.emplace_back("held_topics", std::to_string(st.held_attaches.size()));
      return s;
    },
    [self](detach_atom, uint64_t req, const std::vector<std::string>& names,
           const connection_actor_type& conn) {
      auto& st = self->state;
      for (auto& name : names) {
        // An attach held back by a restart backoff is withdrawn here; it
        // counts as confirmed for its request (the client's subscribe gets its
        // ack first), and nothing attaches the client when the backoff ends.
        if (auto h = st.held_attaches.find(name); h != st.held_attaches.end()) {
          auto& held = h->second;
          for (auto i = held.begin(); i != held.end();) {
            if (i->second.conn == conn) {
              self->send(conn, detached_atom_v, i->first, name);
              i = held.erase(i);
            } else {
              ++i;
            }
          }
        }
        if (auto i = st.topics.find(name); i != st.topics.end())
          self->send(i->second.topic, detach_atom_v, req, conn);
        else
          self->send(conn, detached_atom_v, req, name);
      }
    },
    [self](route_atom, const publication_ptr& pub) {
      ++self->state.msgs_in;
      route(self, pub);
    },
    [self](route_atom, const publication_batch& batch) {
      ++self->state.msgs_in;
      route_batch(self, batch);
    },
    [self](route_atom, const publication_batch& batch, uint64_t token) {
      ++self->state.msgs_in;
      route_batch(self, batch);
      self->send(caf::actor_cast<caf::actor>(self->current_sender()), handed_atom_v, token);
    },
    [self](idle_atom, const std::string& name, uint64_t attaches_seen) {
      auto& topics = self->state.topics;
      auto i = topics.find(name);
      if (i == topics.end() || i->second.topic.address() != self->current_sender()
          || i->second.attaches_forwarded != attaches_seen)
        return; // an attach is on its way: the topic stays
      self->demonitor(i->second.topic);
      self->send(i->second.topic, stop_atom_v);
      tell_feeds_gone(self, name, i->second.topic);
      topics.erase(i);
    },
    [self](stats_atom) {
      router_stats r;
      r.topics = self->state.topics.size();
      auto subs = node_metrics().topic_subscriptions.load();
      r.subscriptions = subs > 0 ? static_cast<uint64_t>(subs) : 0;
      return r;
    },
    [self](stop_atom) {
      for (auto& [name, e] : self->state.topics) {
        self->demonitor(e.topic);
        self->send(e.topic, stop_atom_v);
      }
      self->state.topics.clear();
      self->quit();
    },
  };
}

} // namespace tickgate
