#include "actors/connection_actor.hpp"

#include <caf/event_based_actor.hpp>
#include <spdlog/spdlog.h>

#include "actors/metrics.hpp"

namespace tickgate {

namespace {

using self_ptr = caf::stateful_actor<connection_state>*;

void reply(self_ptr self, wire_format f, std::string bytes) {
  node_metrics().conn_replies_out.fetch_add(1, std::memory_order_relaxed);
  self->state.sink->send(make_frame(std::move(bytes), is_binary(f)));
}

void reply_error(self_ptr self, wire_format f, std::optional<uint64_t> id,
                 error_code code, std::string_view message) {
  node_metrics().count_error(code);
  reply(self, f, encode_error(f, id, code, message));
}

subscriber make_subscriber(self_ptr self, wire_format f) {
  return subscriber{caf::actor{self}, self->state.sink, f};
}

void bind_topic(self_ptr self, const std::string& name,
                const caf::actor& topic) {
  auto& st = self->state;
  auto i = st.subs.find(name);
  if (i == st.subs.end() || i->second.topic == topic)
    return; // unsubscribed meanwhile (the detach follows) or already bound
  if (i->second.topic)
    st.topic_names.erase(i->second.topic.id());
  i->second.topic = topic;
  st.topic_names[topic.id()] = name;
  self->monitor(topic);
}

void drop_subscription(self_ptr self, const std::string& name) {
  auto& st = self->state;
  auto i = st.subs.find(name);
  if (i == st.subs.end())
    return;
  if (auto& topic = i->second.topic) {
    st.topic_names.erase(topic.id());
    self->demonitor(topic);
  }
  st.subs.erase(i);
}

// Counts one confirmation for request `req`; acks when it was the last.
void confirm(self_ptr self, uint64_t req) {
  auto& pending = self->state.pending;
  auto i = pending.find(req);
  if (i == pending.end() || --i->second.outstanding > 0)
    return;
  auto& p = i->second;
  reply(self, p.format, encode_ack(p.format, p.id, p.op, p.topics));
  pending.erase(i);
}

void subscribe(self_ptr self, client_command& cmd) {
  auto& st = self->state;
  std::vector<std::string> fresh;
  for (auto& t : cmd.topics)
    if (st.subs.count(t) == 0)
      fresh.push_back(t);
  if (st.subs.size() + fresh.size() > st.settings.max_subscriptions) {
    reply_error(self, cmd.format, cmd.id, error_code::limit_exceeded,
                "subscribing to " + std::to_string(fresh.size())
                  + " more topic(s) would exceed the limit of "
                  + std::to_string(st.settings.max_subscriptions)
                  + " per connection (now "
                  + std::to_string(st.subs.size()) + ")");
    return;
  }
  if (fresh.empty()) {
    reply(self, cmd.format,
          encode_ack(cmd.format, cmd.id, cmd.op, cmd.topics));
    return;
  }
  for (auto& t : fresh)
    st.subs.emplace(t, connection_state::subscription{caf::actor{}, cmd.format});
  auto req = st.next_request++;
  st.pending.emplace(req, connection_state::pending_request{
                            cmd.op, cmd.id, cmd.format, std::move(cmd.topics),
                            fresh.size()});
  self->send(st.router, attach_atom_v, req, std::move(fresh),
             make_subscriber(self, cmd.format));
}

void unsubscribe(self_ptr self, client_command& cmd) {
  auto& st = self->state;
  std::vector<std::string> present;
  for (auto& t : cmd.topics) {
    if (st.subs.count(t) > 0) {
      drop_subscription(self, t);
      present.push_back(t);
    }
  }
  if (present.empty()) {
    reply(self, cmd.format,
          encode_ack(cmd.format, cmd.id, cmd.op, cmd.topics));
    return;
  }
  auto req = st.next_request++;
  st.pending.emplace(req, connection_state::pending_request{
                            cmd.op, cmd.id, cmd.format, std::move(cmd.topics),
                            present.size()});
  // Through the router, so the detach cannot overtake an attach still on its way.
  self->send(st.router, detach_atom_v, req, std::move(present),
             caf::actor{self});
}

} // namespace

caf::behavior connection_actor(self_ptr self, session_sink_ptr sink,
                               caf::actor router, routing_settings settings) {
  auto& st = self->state;
  st.sink = std::move(sink);
  st.router = std::move(router);
  st.settings = std::move(settings);
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& st = self->state;
    auto i = st.topic_names.find(dm.source.id());
    if (i == st.topic_names.end())
      return;
    // The topic failed: attach again; the router spawns a new incarnation.
    auto name = i->second;
    st.topic_names.erase(i);
    auto& sub = st.subs[name];
    sub.topic = caf::actor{};
    self->send(st.router, attach_atom_v, uint64_t{0},
               std::vector<std::string>{name}, make_subscriber(self, sub.format));
  });
  return {
    [self](client_command& cmd) {
      switch (cmd.op) {
        case client_op::subscribe:
          subscribe(self, cmd);
          break;
        case client_op::unsubscribe:
          unsubscribe(self, cmd);
          break;
        case client_op::ping:
          reply(self, cmd.format, encode_pong(cmd.format, cmd.id, now_us()));
          break;
        case client_op::auth:
          reply_error(self, cmd.format, cmd.id, error_code::unsupported,
                      "authentication is not enabled on this node");
          break;
      }
    },
    [self](const client_error& err) {
      reply_error(self, err.format, err.id, err.code, err.message);
    },
    [self](attached_atom, uint64_t req, const std::string& name,
           const caf::actor& topic) {
      bind_topic(self, name, topic);
      confirm(self, req);
    },
    [self](detached_atom, uint64_t req, const std::string&) {
      confirm(self, req);
    },
    [self](closed_atom) { self->quit(); },
  };
}

} // namespace tickgate
