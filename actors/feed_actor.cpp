#include "actors/feed_actor.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "actors/admin_alerts.hpp"
#include "actors/inspector_actor.hpp"
#include "proto/json_writer.hpp"
#include "proto/topic_name.hpp"

namespace tickgate {

namespace {

using self_ptr = caf::stateful_actor<feed_state>*;

void tell(self_ptr self, const caf::actor& topic, bool up) {
  auto& st = self->state;
  self->send(topic, feed_atom_v, up, up ? std::string{} : st.down_reason);
}

void tell_all(self_ptr self, const feed_state::topic_entry& e, bool up) {
  for (auto& t : e.actors)
    tell(self, t, up);
}

// Whether this feed follows `topic`: the system feed the system topics, every
// other feed the rest.
bool ours(self_ptr self, std::string_view topic) {
  return is_system_topic(topic) == self->state.upstream->system();
}

// A topic this feed does not follow is up as far as it is concerned.
void add_interest(self_ptr self, const std::string& name, const caf::actor& topic) {
  auto& st = self->state;
  auto [it, fresh] = st.topics.try_emplace(name);
  auto& e = it->second;
  e.actors.push_back(topic);
  if (!ours(self, name)) {
    e.confirmed = true;
    tell(self, topic, true);
    return;
  }
  if (fresh)
    e.confirmed = st.upstream->follow(name);
  if (!st.up)
    tell(self, topic, false); // the topic serves meanwhile and says feed_down
  else if (e.confirmed)
    tell(self, topic, true);
  // else: told when the feed confirms the name
}

void drop_interest(self_ptr self, const std::string& name, const caf::actor& topic) {
  auto& st = self->state;
  auto it = st.topics.find(name);
  if (it == st.topics.end())
    return;
  auto& actors = it->second.actors;
  actors.erase(std::remove(actors.begin(), actors.end(), topic), actors.end());
  if (!actors.empty())
    return;
  st.topics.erase(it);
  if (ours(self, name))
    st.upstream->unfollow(name);
}

void on_status(self_ptr self, bool up, const std::string& reason) {
  auto& st = self->state;
  bool was_up = st.up;
  st.up = up;
  if (was_up != up && st.inspector && (!up || st.ever_up)) {
    auto a = alert_watch::feed_status(st.upstream->name(), up, reason);
    self->send(st.inspector, alert_atom_v, a.level, a.kind, a.message);
  }
  st.ever_up |= up;
  if (up) {
    // A topic followed while this actor still thought the feed down, and
    // confirmed by follow() itself, hears it now; the rest when confirmed.
    for (auto& [name, e] : st.topics)
      if (e.confirmed)
        tell_all(self, e, true);
    return;
  }
  st.down_reason = reason;
  for (auto& [name, e] : st.topics) {
    if (!ours(self, name))
      continue; // followed by another feed; this one's state is not its business
    e.confirmed = false;
    if (was_up)
      tell_all(self, e, false);
  }
}

void on_confirmed(self_ptr self, const std::vector<std::string>& names) {
  auto& st = self->state;
  if (!st.up)
    return; // from before the feed went down
  for (auto& name : names) {
    auto it = st.topics.find(name);
    if (it == st.topics.end() || it->second.confirmed)
      continue;
    it->second.confirmed = true;
    tell_all(self, it->second, true);
  }
}

void on_positioned(self_ptr self, const std::string& name, const std::string& epoch,
                   uint64_t seq, const publication_batch* backfill) {
  auto& st = self->state;
  auto it = st.topics.find(name);
  if (!st.up || it == st.topics.end())
    return; // from before the feed went down, or the topic has ended
  it->second.confirmed = true;
  for (auto& t : it->second.actors)
    if (backfill)
      self->send(t, feed_atom_v, true, std::string{}, epoch, seq, *backfill);
    else
      self->send(t, feed_atom_v, true, std::string{}, epoch, seq);
}

void deliver(self_ptr self, publication_batch batch) {
  auto& st = self->state;
  // No upstream may reach a system topic (a Redis pattern could match one).
  if (!st.upstream->system())
    std::erase_if(batch, [](const publication_ptr& p) {
      return p->topic.starts_with(system_topic_prefix);
    });
  st.delivered += batch.size();
  self->send(st.router, route_atom_v, std::move(batch));
}

actor_stats describe(self_ptr self) {
  auto& st = self->state;
  actor_stats s;
  s.kind = "bridge";
  s.name = st.upstream->name();
  s.id = self->id();
  s.mailbox = self->mailbox().size();
  s.msgs_in = st.delivered;
  s.msgs_out = st.published;
  s.extra.emplace_back("link", json_quoted(st.up ? "up" : "down"));
  auto followed = std::count_if(st.topics.begin(), st.topics.end(),
                                [&](const auto& t) { return ours(self, t.first); });
  s.extra.emplace_back("topics", std::to_string(followed)); // those this feed follows
  st.upstream->describe(s);
  return s;
}

} // namespace

caf::behavior feed_actor(self_ptr self, std::shared_ptr<feed> upstream,
                         caf::actor router) {
  auto& st = self->state;
  st.upstream = std::move(upstream);
  st.router = std::move(router);
  st.up = st.upstream->up_at_start();
  st.ever_up = st.up;
  if (!st.up)
    st.down_reason = st.upstream->down_at_start_reason();
  st.upstream->start(feed_reports{caf::actor{self}});
  return {
    [self](interest_atom, const std::string& name, const caf::actor& topic, bool alive) {
      if (alive)
        add_interest(self, name, topic);
      else
        drop_interest(self, name, topic);
    },
    [self](link_atom, bool up, const std::string& reason) { on_status(self, up, reason); },
    [self](subscribed_atom, const std::vector<std::string>& names) {
      on_confirmed(self, names);
    },
    [self](subscribed_atom, const std::string& name, const std::string& epoch, uint64_t seq) {
      on_positioned(self, name, epoch, seq, nullptr);
    },
    [self](subscribed_atom, const std::string& name, const std::string& epoch, uint64_t seq,
           const publication_batch& backfill) {
      on_positioned(self, name, epoch, seq, &backfill);
    },
    [self](deliver_atom, publication_batch& batch) { deliver(self, std::move(batch)); },
    [self](deliver_atom, publication_batch& batch, uint64_t token) {
      auto& st = self->state;
      st.delivered += batch.size();
      // The router answers with handed_atom: messages between two actors
      // keep their order, so by then each publication is in its topic's
      // mailbox, ahead of anything routed later.
      self->send(st.router, route_atom_v, std::move(batch), token);
    },
    [self](handed_atom, uint64_t token) { self->state.upstream->handed(token); },
    [self](broadcast_atom, std::string& json, std::string& event, uint64_t token) {
      auto& st = self->state;
      if (st.inspector)
        self->send(st.inspector, broadcast_atom_v, std::move(json), std::move(event));
      st.upstream->handed(token);
    },
    [self](publish_atom, const publication_batch& batch) {
      auto& st = self->state;
      st.published += batch.size();
      if (st.upstream->publish(batch) == publish_outcome::local)
        deliver(self, batch);
    },
    [self](use_atom, const caf::actor& router) { self->state.router = router; },
    [self](register_atom, const caf::actor& inspector) {
      self->state.inspector = inspector;
      register_with(self, inspector, "bridge");
    },
    [self](inspect_atom) { return describe(self); },
    [self](stop_atom) { self->quit(); },
  };
}

} // namespace tickgate
