#include "actors/bridge_actor.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "actors/inspector_actor.hpp"
#include "actors/metrics.hpp"

namespace tickgate {

namespace {

using self_ptr = caf::stateful_actor<bridge_state>*;

// The configured pattern that delivers `channel`, if any.
const std::string* covering_pattern(self_ptr self, const std::string& channel) {
  for (auto& p : self->state.settings.patterns)
    if (glob_match(p, channel))
      return &p;
  return nullptr;
}

void tell_topics(self_ptr self, const bridge_state::channel_entry& e, bool up) {
  auto& st = self->state;
  for (auto& t : e.topics)
    self->send(t, feed_atom_v, up, up ? std::string{} : st.down_reason);
}

void confirm_channel(self_ptr self, bridge_state::channel_entry& e) {
  if (e.confirmed)
    return;
  e.confirmed = true;
  tell_topics(self, e, true);
}

void add_interest(self_ptr self, const std::string& name,
                  const caf::actor& topic) {
  auto& st = self->state;
  auto channel = st.settings.mapping.to_channel(name);
  auto [it, fresh] = st.channels.try_emplace(channel);
  auto& e = it->second;
  e.topics.push_back(topic);
  if (!st.link_up) {
    // Subscribed at link-up; meanwhile the topic serves and says feed_down.
    self->send(topic, feed_atom_v, false, st.down_reason);
    return;
  }
  if (!fresh) {
    if (e.confirmed)
      self->send(topic, feed_atom_v, true, std::string{});
    return; // else: confirmed together with the channel
  }
  if (auto* p = covering_pattern(self, channel)) {
    if (st.pattern_confirmed[*p])
      confirm_channel(self, e);
    return;
  }
  st.port->subscribe({channel});
}

void drop_interest(self_ptr self, const std::string& name,
                   const caf::actor& topic) {
  auto& st = self->state;
  auto channel = st.settings.mapping.to_channel(name);
  auto it = st.channels.find(channel);
  if (it == st.channels.end())
    return;
  auto& topics = it->second.topics;
  topics.erase(std::remove(topics.begin(), topics.end(), topic), topics.end());
  if (!topics.empty())
    return;
  st.channels.erase(it);
  if (st.link_up && !covering_pattern(self, channel))
    st.port->unsubscribe({channel});
}

void on_link_up(self_ptr self) {
  auto& st = self->state;
  st.link_up = true;
  node_metrics().bridge_link_up.store(1);
  std::vector<std::string> channels;
  for (auto& [channel, e] : st.channels)
    if (!covering_pattern(self, channel))
      channels.push_back(channel);
  if (!st.settings.patterns.empty())
    st.port->psubscribe(st.settings.patterns);
  if (!channels.empty())
    st.port->subscribe(std::move(channels));
  spdlog::info("bridge.link_up channels={} patterns={}", st.channels.size(),
               st.settings.patterns.size());
}

void on_link_down(self_ptr self, const std::string& reason) {
  auto& st = self->state;
  bool was_up = st.link_up;
  st.link_up = false;
  st.down_reason = "redis unavailable: " + reason;
  node_metrics().bridge_link_up.store(0);
  for (auto& [p, confirmed] : st.pattern_confirmed)
    confirmed = false;
  for (auto& [channel, e] : st.channels) {
    e.confirmed = false;
    if (was_up)
      tell_topics(self, e, false);
  }
  if (was_up)
    spdlog::warn("bridge.link_down reason={} channels={}", reason,
                 st.channels.size());
}

void ingest(self_ptr self, redis_batch& batch) {
  auto& st = self->state;
  auto& m = node_metrics();
  m.bridge_messages_in.fetch_add(batch.size(), std::memory_order_relaxed);
  auto ts = now_us();
  publication_batch pubs;
  pubs.reserve(batch.size());
  for (auto& msg : batch) {
    if (msg.payload.size() > st.settings.max_payload_bytes) {
      m.bridge_oversize.fetch_add(1, std::memory_order_relaxed);
      spdlog::warn("bridge.oversize_dropped channel={} bytes={} limit={}",
                   msg.channel, msg.payload.size(),
                   st.settings.max_payload_bytes);
      continue;
    }
    auto p = std::make_shared<publication>();
    p->topic = st.settings.mapping.to_topic(msg.channel);
    p->kind = classify_payload(msg.payload);
    p->payload = std::move(msg.payload);
    p->ts_us = ts;
    pubs.push_back(std::move(p));
  }
  if (!pubs.empty())
    self->send(st.router, publish_atom_v, std::move(pubs));
}

} // namespace

caf::behavior bridge_actor(self_ptr self, std::shared_ptr<redis_port> port,
                           caf::actor router, bridge_settings settings) {
  auto& st = self->state;
  st.port = std::move(port);
  st.router = std::move(router);
  st.settings = std::move(settings);
  for (auto& p : st.settings.patterns)
    st.pattern_confirmed[p] = false;
  return {
    [self](interest_atom, const std::string& name, const caf::actor& topic,
           bool alive) {
      if (alive)
        add_interest(self, name, topic);
      else
        drop_interest(self, name, topic);
    },
    [self](link_atom, bool up, const std::string& reason) {
      if (up)
        on_link_up(self);
      else
        on_link_down(self, reason);
    },
    [self](subscribed_atom, const std::string& name, bool is_pattern) {
      auto& st = self->state;
      if (!st.link_up)
        return; // a confirmation from before the link dropped
      if (!is_pattern) {
        if (auto it = st.channels.find(name); it != st.channels.end())
          confirm_channel(self, it->second);
        return;
      }
      st.pattern_confirmed[name] = true;
      for (auto& [channel, e] : st.channels)
        if (glob_match(name, channel))
          confirm_channel(self, e);
    },
    [self](redis_batch& batch) { ingest(self, batch); },
    [self](publish_atom, const publication_batch& batch) {
      auto& st = self->state;
      auto& m = node_metrics();
      if (!st.link_up) {
        m.bridge_publish_dropped.fetch_add(batch.size(), std::memory_order_relaxed);
        return;
      }
      std::vector<std::pair<std::string, std::string>> out;
      out.reserve(batch.size());
      for (auto& pub : batch)
        out.emplace_back(st.settings.mapping.to_channel(pub->topic), pub->payload);
      m.bridge_published.fetch_add(out.size(), std::memory_order_relaxed);
      st.port->publish(std::move(out));
    },
    [self](use_atom, const caf::actor& router) { self->state.router = router; },
    [self](register_atom, const caf::actor& inspector) {
      register_with(self, inspector, "bridge");
    },
    [self](inspect_atom) {
      auto& st = self->state;
      actor_stats s;
      s.kind = "bridge";
      s.name = "bridge";
      s.id = self->id();
      s.mailbox = self->mailbox().size();
      s.msgs_in = node_metrics().bridge_messages_in.load();
      s.msgs_out = node_metrics().bridge_published.load();
      s.restarts = node_metrics().bridge_reconnects.load();
      s.extra.emplace_back("link", st.link_up ? "\"up\"" : "\"down\"");
      s.extra.emplace_back("channels", std::to_string(st.channels.size()));
      s.extra.emplace_back("patterns", std::to_string(st.settings.patterns.size()));
      return s;
    },
    [self](stop_atom) { self->quit(); },
  };
}

} // namespace tickgate
