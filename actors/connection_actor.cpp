#include "actors/connection_actor.hpp"

#include <algorithm>
#include <span>
#include <utility>

#include <caf/send.hpp>
#include <spdlog/spdlog.h>

#include "actors/connection_admin.hpp"
#include "actors/connection_auth.hpp"
#include "actors/inspector_actor.hpp"
#include "actors/metrics.hpp"
#include "proto/json_writer.hpp"
#include "proto/dialect_settings.hpp"
#include "proto/emitter_packet.hpp"

namespace tickgate {

namespace {

using self_ptr = connection_self;

connection_actor_type handle_of(self_ptr self) {
  return caf::actor_cast<connection_actor_type>(self);
}

// CAF 0.17 lets a typed actor send() only to typed actors, and the router is
// dynamically typed. unsafe_send_as sends as send() does (this actor as
// sender, its execution context, so an I/O thread keeps the router in its run
// list), without the static check.
template <class... Ts>
void tell_router(self_ptr self, Ts&&... xs) {
  caf::unsafe_send_as(self, self->state.router, std::forward<Ts>(xs)...);
}

void send_frame(self_ptr self, const wire_format& f, std::string bytes) {
  node_metrics().conn_replies_out.fetch_add(1, std::memory_order_relaxed);
  self->state.sink->send(make_frame(std::move(bytes), is_binary(f)));
}

reply_to reply_address(const client_command& cmd) {
  return reply_to{cmd.format, cmd.id, cmd.ctx};
}

void reply_error(self_ptr self, const reply_to& to, error_code code,
                 std::string_view message) {
  node_metrics().count_error(code);
  send_frame(self, to.format, encode_error_frame(to, code, message));
}

// Every subscription's client-facing name, in a stable order.
std::vector<std::string> current_names(self_ptr self) {
  std::vector<std::string> out;
  for (auto& [topic, sub] : self->state.subs)
    out.push_back(sub.name);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

void send_ack(self_ptr self, const reply_to& to, client_op op,
              const std::vector<std::string>& names,
              std::span<const topic_position> positions = {}) {
  // Only the action protocol's ack and a stream LIST carry the whole set.
  bool needs_current = to.format.kind == dialect::action || op == client_op::list;
  auto current = needs_current ? current_names(self) : std::vector<std::string>{};
  for (auto& bytes : encode_ack_frames(to, op, names, current, positions))
    send_frame(self, to.format, std::move(bytes));
}

subscriber make_subscriber(self_ptr self, wire_format f,
                           std::shared_ptr<const subscribe_options> options = nullptr) {
  return subscriber{handle_of(self), self->state.sink, f, std::move(options)};
}

// Acks a completed request; a subscribe's topics then start the client's streams.
void complete(self_ptr self, connection_state::pending_request& p) {
  auto& order = p.names;
  std::stable_sort(p.positions.begin(), p.positions.end(), [&](auto& a, auto& b) {
    return std::find(order.begin(), order.end(), a.name)
           < std::find(order.begin(), order.end(), b.name);
  });
  if (!p.silent)
    send_ack(self, p.to, p.op, p.names, p.positions);
  for (auto& topic : p.release)
    caf::unsafe_send_as(self, topic, release_atom_v, caf::actor_cast<caf::actor>(self));
}

bool watching(self_ptr self, caf::actor_id topic) {
  auto& st = self->state;
  return st.topic_names.count(topic) > 0 || st.owed.count(topic) > 0;
}

void bind_topic(self_ptr self, const std::string& name,
                const caf::actor& topic) {
  auto& st = self->state;
  auto i = st.subs.find(name);
  if (i == st.subs.end() || i->second.topic == topic)
    return; // unsubscribed meanwhile (the detach follows) or already bound
  if (auto old = i->second.topic) {
    st.topic_names.erase(old.id());
    if (!watching(self, old.id()))
      self->demonitor(old);
  }
  bool watched = watching(self, topic.id());
  i->second.topic = topic;
  st.topic_names[topic.id()] = name;
  if (!watched)
    self->monitor(topic);
}

// CAF keeps a monitor in the observed actor until the observer removes it or
// the observed actor ends, and the entry references the observer's memory.
// Topics outlive their clients: a client that ends while watching topics
// removes its monitors, or each topic would keep an entry, and the ended
// actor's memory, for every client that ever watched it.
void unwatch_topics(self_ptr self) {
  auto& st = self->state;
  for (auto& [id, name] : st.topic_names)
    if (auto s = st.subs.find(name); s != st.subs.end() && s->second.topic)
      self->demonitor(s->second.topic);
  for (auto& [id, o] : st.owed)
    if (o.topic && st.topic_names.count(id) == 0)
      self->demonitor(o.topic);
}

// Forgets the subscription `name`; `detach_req` is the request the topic
// will answer for it (0: none).
void drop_subscription(self_ptr self, const std::string& name, uint64_t detach_req) {
  auto& st = self->state;
  auto i = st.subs.find(name);
  if (i == st.subs.end())
    return;
  std::vector<uint64_t> reqs;
  if (i->second.pending_req != 0)
    reqs.push_back(i->second.pending_req);
  if (detach_req != 0)
    reqs.push_back(detach_req);
  if (auto& topic = i->second.topic) {
    st.topic_names.erase(topic.id());
    if (reqs.empty()) {
      if (!watching(self, topic.id()))
        self->demonitor(topic);
    } else {
      auto& owed = st.owed[topic.id()];
      owed.topic = topic;
      owed.requests.insert(owed.requests.end(), reqs.begin(), reqs.end());
    }
  } else if (!reqs.empty()) {
    auto& l = st.leaving[name];
    l.insert(l.end(), reqs.begin(), reqs.end());
  }
  if (auto& m = st.sink->membership)
    m->remove(name);
  if (i->second.counted)
    st.quota.give_back(1);
  st.subs.erase(i);
}

// The router chose `topic` for `name`: answers owed for a subscription the
// client already left are now owed by that topic.
void bind_leaving(self_ptr self, const std::string& name, const caf::actor& topic) {
  auto& st = self->state;
  auto l = st.leaving.find(name);
  if (l == st.leaving.end())
    return;
  bool watched = watching(self, topic.id());
  auto& owed = st.owed[topic.id()];
  owed.topic = topic;
  owed.requests.insert(owed.requests.end(), l->second.begin(), l->second.end());
  st.leaving.erase(l);
  if (!watched)
    self->monitor(topic);
}

// Request `req` got its answer: nobody owes it any more.
void settle(self_ptr self, uint64_t req) {
  auto& st = self->state;
  for (auto l = st.leaving.begin(); l != st.leaving.end();) {
    auto& v = l->second;
    v.erase(std::remove(v.begin(), v.end(), req), v.end());
    l = v.empty() ? st.leaving.erase(l) : std::next(l);
  }
  for (auto o = st.owed.begin(); o != st.owed.end();) {
    auto& v = o->second.requests;
    v.erase(std::remove(v.begin(), v.end(), req), v.end());
    if (!v.empty()) {
      ++o;
      continue;
    }
    auto topic = std::move(o->second.topic);
    o = st.owed.erase(o);
    if (!watching(self, topic.id()))
      self->demonitor(topic);
  }
}

// Counts one confirmation for request `req`; acks when it was the last.
void confirm(self_ptr self, uint64_t req) {
  if (req == 0)
    return; // a re-attach: no ack, the topic sent the reset
  settle(self, req);
  auto& pending = self->state.pending;
  auto i = pending.find(req);
  if (i == pending.end() || i->second.outstanding == 0 || --i->second.outstanding > 0)
    return;
  // Acks leave in request order.
  while (!pending.empty() && pending.begin()->second.outstanding == 0) {
    auto p = std::move(pending.begin()->second);
    pending.erase(pending.begin());
    complete(self, p);
  }
}

// The action protocol caps symbols per client (a setting of that dialect).
size_t subscription_limit(self_ptr self, const wire_format& f) {
  auto limit = self->state.settings->max_subscriptions;
  if (f.kind == dialect::action)
    limit = std::min(limit, dialects().action_max_symbols);
  return limit;
}

std::string limit_message(const wire_format& f, size_t fresh, size_t limit,
                          size_t now) {
  if (f.kind == dialect::action)
    return "Cannot subscribe: would exceed maximum of " + std::to_string(limit)
           + " symbols";
  return "subscribing to " + std::to_string(fresh)
         + " more topic(s) would exceed the limit of " + std::to_string(limit)
         + " per connection (now " + std::to_string(now) + ")";
}

// Rooms the client joined in Socket.IO namespace `ns` (counted ones).
size_t rooms_in_namespace(self_ptr self, uint8_t ns) {
  size_t n = 0;
  for (auto& [topic, sub] : self->state.subs)
    n += sub.counted && sub.format.kind == dialect::socketio && sub.format.ns == ns;
  return n;
}

// The namespace system's limits (limits.*): rooms per Socket.IO namespace,
// then subscriptions per user across the node, which takes `fresh` from the
// user's count when it passes. Replies the error naming the limit when not.
bool within_user_limits(self_ptr self, const client_command& cmd, size_t fresh) {
  auto& st = self->state;
  auto& m = node_metrics();
  if (auto limit = st.settings->max_rooms_per_namespace;
      limit > 0 && cmd.format.kind == dialect::socketio) {
    auto now = rooms_in_namespace(self, cmd.format.ns);
    if (now + fresh > limit) {
      m.limit_namespace_refused.fetch_add(1, std::memory_order_relaxed);
      reply_error(self, reply_address(cmd), error_code::limit_exceeded,
                  "limits.max-rooms-per-namespace: joining " + std::to_string(fresh)
                    + " more room(s) would exceed the limit of " + std::to_string(limit)
                    + " per namespace (" + dialects().namespaces[cmd.format.ns] + " holds "
                    + std::to_string(now) + ")");
      return false;
    }
  }
  if (st.quota.take(fresh))
    return true;
  m.limit_user_refused.fetch_add(1, std::memory_order_relaxed);
  auto* user = st.auth && st.auth->claims ? &st.auth->claims->user : nullptr;
  spdlog::info("conn.user_limit peer={} user={} holds={} limit={}", st.peer(),
               user ? *user : std::string{"-"}, st.quota.user_count(), st.quota.limit());
  reply_error(self, reply_address(cmd), error_code::limit_exceeded,
              "limits.max-channels-per-user: subscribing to " + std::to_string(fresh)
                + " more would exceed the limit of " + std::to_string(st.quota.limit())
                + " subscriptions per user (user " + (user ? *user : std::string{}) + " holds "
                + std::to_string(st.quota.user_count()) + " on this node)");
  return false;
}

// Adds the request's fresh topics to the subscription set and asks the
// router to attach them; the ack goes out once all confirmed.
// `counted`: they count toward the per-user limits; `silent`: nobody asked,
// nobody is acked (a Socket.IO namespace's own topic).
void start_subscriptions(self_ptr self, client_command& cmd, std::vector<std::string> names,
                         std::vector<std::string> fresh, bool counted, bool silent = false) {
  auto& st = self->state;
  st.subscribed_once = true;
  for (size_t i = 0; i < cmd.topics.size(); ++i)
    if (st.subs.count(cmd.topics[i]) == 0) {
      st.subs.emplace(cmd.topics[i],
                      connection_state::subscription{caf::actor{}, cmd.format, names[i],
                                                     st.next_request, cmd.options.throttle_ms,
                                                     counted});
      if (auto& m = st.sink->membership)
        m->add(cmd.topics[i]);
    }
  auto req = st.next_request++;
  st.pending.emplace(req, connection_state::pending_request{
                            cmd.op, reply_address(cmd), std::move(names), fresh.size(), {}, {}, silent});
  // Seed dialects may start with the latest values, as the gateways they
  // replace did (dialects.*-last).
  auto& o = cmd.options;
  if (!silent && o.since.empty() && o.last == 0 && !o.snapshot)
    o.last = dialects().initial_last(cmd.format.kind);
  std::shared_ptr<const subscribe_options> options;
  if (!cmd.options.empty())
    options = std::make_shared<const subscribe_options>(std::move(cmd.options));
  tell_router(self, attach_atom_v, req, std::move(fresh),
             make_subscriber(self, cmd.format, std::move(options)));
}

// `silent`: nobody asked, nobody is acked (a Socket.IO namespace's own topic).
void subscribe(self_ptr self, client_command& cmd, bool silent = false) {
  auto& st = self->state;
  auto names = cmd.names.empty() ? cmd.topics : cmd.names;
  // Namespaces' own topics carry their emits: only the node follows them.
  if (!silent && dialects().socketio_namespace_topics)
    for (auto& t : cmd.topics)
      if (t.starts_with(emitter::namespace_topic(""))) {
        reply_error(self, reply_address(cmd), error_code::forbidden,
                    t + " is a Socket.IO namespace's own topic");
        return;
      }
  std::vector<std::string> fresh;
  for (size_t i = 0; i < cmd.topics.size(); ++i) {
    auto& t = cmd.topics[i];
    if (st.subs.count(t) == 0) {
      fresh.push_back(t);
    }
  }
  // One delivery format per topic and connection: a Socket.IO client cannot
  // follow the same topic in two namespaces at once.
  if (cmd.format.kind == dialect::socketio) {
    for (auto& t : cmd.topics) {
      auto i = st.subs.find(t);
      if (i != st.subs.end() && i->second.format.ns != cmd.format.ns) {
        reply_error(self, reply_address(cmd), error_code::bad_request,
                    "already subscribed to " + t + " in namespace "
                      + dialects().namespaces[i->second.format.ns]
                      + "; a topic can be followed in one namespace per connection");
        return;
      }
    }
  }
  auto limit = subscription_limit(self, cmd.format);
  if (st.subs.size() + fresh.size() > limit) {
    reply_error(self, reply_address(cmd), error_code::limit_exceeded,
                limit_message(cmd.format, fresh.size(), limit, st.subs.size()));
    return;
  }
  if (fresh.empty()) {
    send_ack(self, reply_address(cmd), cmd.op, names);
    return;
  }
  if (!silent && !within_user_limits(self, cmd, fresh.size()))
    return;
  start_subscriptions(self, cmd, std::move(names), std::move(fresh), !silent, silent);
}

void unsubscribe(self_ptr self, client_command& cmd) {
  auto& st = self->state;
  // Leaving a Socket.IO namespace leaves every room held in it, those the
  // node joined for the client included.
  if (cmd.format.kind == dialect::socketio && cmd.ctx.verb == "disconnect") {
    st.namespaces.leave(cmd.format.ns);
    cmd.topics.clear();
    for (auto& [topic, sub] : st.subs)
      if (sub.format.kind == dialect::socketio && sub.format.ns == cmd.format.ns)
        cmd.topics.push_back(topic);
    cmd.names = cmd.topics;
  }
  auto names = cmd.names.empty() ? cmd.topics : cmd.names;
  std::vector<std::string> present;
  for (auto& t : cmd.topics) {
    auto i = st.subs.find(t);
    // A Socket.IO namespace only drops what it subscribed itself.
    if (i != st.subs.end() && cmd.format.kind == dialect::socketio
        && i->second.format.ns != cmd.format.ns)
      continue;
    if (i != st.subs.end())
      present.push_back(t);
  }
  if (present.empty()) {
    send_ack(self, reply_address(cmd), cmd.op, names);
    return;
  }
  auto req = st.next_request++;
  for (auto& t : present)
    drop_subscription(self, t, req);
  st.pending.emplace(req, connection_state::pending_request{
                            cmd.op, reply_address(cmd), std::move(names), present.size(), {}, {}});
  // Through the router, so the detach cannot overtake an attach still on its way.
  tell_router(self, detach_atom_v, req, std::move(present), handle_of(self));
}

// Closes the client; the session writes what is already queued for it (the
// rate_limited notice, the last replies) before the close frame. Messages the
// client still sends meanwhile are ignored.
void close_after_flush(self_ptr self, uint16_t code, std::string_view reason) {
  self->state.closing = true;
  self->state.sink->close(code, reason);
}

// Applies the inbound rate limit to one client message; false: drop it.
bool admit(self_ptr self, const reply_to& to) {
  auto& st = self->state;
  if (st.closing)
    return false;
  auto v = st.limiter.admit(to.format, std::chrono::steady_clock::now());
  if (v == inbound_limiter::verdict::pass)
    return true;
  auto& m = node_metrics();
  m.conn_rate_limited.fetch_add(1, std::memory_order_relaxed);
  if (v == inbound_limiter::verdict::drop_notify) {
    reply_error(self, to, error_code::rate_limited,
                "rate limit exceeded: messages are being dropped; "
                "slow down or the connection closes");
  } else if (v == inbound_limiter::verdict::close) {
    m.conn_rate_closed.fetch_add(1, std::memory_order_relaxed);
    spdlog::info("conn.rate_limit_exceeded peer={} dropped={} closing 1008",
                 st.peer(), st.limiter.dropped());
    close_after_flush(self, 1008, "rate limit exceeded");
  }
  return false;
}

} // namespace

namespace_tally::~namespace_tally() {
  for (size_t i = 0; i < in_.size(); ++i)
    if (in_[i])
      node_metrics().conn_by_namespace[i].fetch_sub(1, std::memory_order_relaxed);
}

void namespace_tally::join(uint8_t ns) {
  if (ns < in_.size() && !in_[ns]) {
    in_.set(ns);
    node_metrics().conn_by_namespace[ns].fetch_add(1, std::memory_order_relaxed);
  }
}

void namespace_tally::leave(uint8_t ns) {
  if (ns < in_.size() && in_[ns]) {
    in_.reset(ns);
    node_metrics().conn_by_namespace[ns].fetch_sub(1, std::memory_order_relaxed);
  }
}

void follow_namespace(self_ptr self, uint8_t ns) {
  self->state.namespaces.join(ns);
  auto& names = dialects().namespaces;
  if (!dialects().socketio_namespace_topics || ns >= names.size())
    return;
  client_command cmd;
  cmd.op = client_op::subscribe;
  cmd.format = wire_format{dialect::socketio, false, ns, 0};
  cmd.topics.push_back(emitter::namespace_topic(names[ns]));
  if (self->state.subs.count(cmd.topics.front()) > 0)
    return; // a CONNECT again
  cmd.names = cmd.topics;
  subscribe(self, cmd, true);
}

void close_subscriptions(self_ptr self, const std::vector<std::string>& topics) {
  std::vector<std::string> present;
  for (auto& t : topics)
    if (self->state.subs.count(t) > 0)
      present.push_back(t);
  if (present.empty())
    return;
  // A request id with no pending entry: the topics confirm, nobody is acked.
  auto& st = self->state;
  auto req = st.next_request++;
  for (auto& t : present)
    drop_subscription(self, t, req);
  tell_router(self, detach_atom_v, req, std::move(present), handle_of(self));
}

void join_on_own_account(self_ptr self, const wire_format& f, std::vector<std::string> topics,
                         request_ctx ctx) {
  auto& st = self->state;
  client_command cmd;
  cmd.op = client_op::subscribe;
  cmd.format = f;
  cmd.ctx = std::move(ctx);
  std::vector<std::string> fresh;
  for (auto& t : topics) {
    auto i = st.subs.find(t);
    if (i == st.subs.end())
      fresh.push_back(t);
    if (i == st.subs.end() || i->second.format.ns == f.ns)
      cmd.topics.push_back(std::move(t));
  }
  cmd.names = cmd.topics;
  if (fresh.empty()) {
    send_ack(self, reply_address(cmd), cmd.op, cmd.names);
    return;
  }
  auto names = cmd.names;
  start_subscriptions(self, cmd, std::move(names), std::move(fresh), false);
}

namespace {

void on_command(self_ptr self, client_command& cmd) {
  self->state.sink->command_done(); // inbound backpressure: one fewer unprocessed
  // Leaving a Socket.IO namespace unsubscribes its topics: never dropped,
  // or the connection would keep topics the client no longer knows of.
  bool leaving = cmd.format.kind == dialect::socketio && cmd.ctx.verb == "disconnect";
  if (leaving)
    leave_admin_namespace(self, cmd.format.ns);
  if (!leaving && !admit(self, reply_address(cmd)))
    return;
  ++self->state.commands;
  self->state.last_format = cmd.format;
  if (!admit(self, cmd))
    return;
  switch (cmd.op) {
    case client_op::subscribe:
      subscribe(self, cmd);
      break;
    case client_op::unsubscribe:
      unsubscribe(self, cmd);
      break;
    case client_op::list:
      send_ack(self, reply_address(cmd), cmd.op, current_names(self));
      break;
    case client_op::ping:
      send_frame(self, cmd.format, encode_pong_frame(reply_address(cmd), now_us()));
      break;
    case client_op::auth:
      on_auth(self, cmd);
      break;
    case client_op::admin:
      on_admin(self, cmd);
      break;
  }
}

void on_client_error(self_ptr self, const client_error& err) {
  self->state.sink->command_done();
  reply_to to{err.format, err.id, err.ctx};
  if (admit(self, to))
    reply_error(self, to, err.code, err.message);
}

void on_attached(self_ptr self, uint64_t req, const std::string& name,
                 const caf::actor& topic, topic_position pos) {
  bind_leaving(self, name, topic);
  bind_topic(self, name, topic);
  auto& st = self->state;
  auto i = st.subs.find(name);
  if (i != st.subs.end() && i->second.pending_req == req)
    i->second.pending_req = 0;
  // The ack names the position under the client's name for the topic. A
  // topic that failed before confirming confirms again from its new
  // incarnation: the later position replaces the earlier one.
  if (auto p = st.pending.find(req); p != st.pending.end() && p->second.op == client_op::subscribe) {
    pos.name = i != st.subs.end() ? i->second.name : name;
    auto& positions = p->second.positions;
    auto same = std::find_if(positions.begin(), positions.end(),
                             [&](auto& x) { return x.name == pos.name; });
    if (same != positions.end())
      *same = std::move(pos);
    else
      positions.push_back(std::move(pos));
    p->second.release.push_back(topic);
  }
  confirm(self, req); // request 0 (re-attach) has no ack; the topic sent the reset
}

// The session's drop-oldest policy lost events: the client must know.
void on_dropped(self_ptr self, uint64_t count) {
  auto& f = self->state.last_format;
  auto json = R"({"event":"dropped","reason":"slow consumer","count":)"
              + std::to_string(count) + "}";
  send_frame(self, f, encode_system_frame(f, json));
}

void on_broadcast(self_ptr self, const std::string& json, const std::string& event = {}) {
  auto& f = self->state.last_format;
  send_frame(self, f, encode_system_frame(f, json, event));
}

void on_kick(self_ptr self) {
  node_metrics().conn_kicked.fetch_add(1, std::memory_order_relaxed);
  self->state.sink->close(1008, "kicked by operator");
}

actor_stats describe(self_ptr self) {
  auto& st = self->state;
  auto io = st.sink->stats();
  actor_stats s;
  s.kind = "connection";
  s.name = io.addr;
  s.id = self->id();
  s.mailbox = self->mailbox().size();
  s.msgs_in = st.commands;
  s.msgs_out = io.frames_out;
  auto now = std::chrono::steady_clock::now();
  s.age_ms = std::chrono::duration_cast<std::chrono::milliseconds>(now - st.started).count();
  s.extra.emplace_back("addr", json_quoted(io.addr));
  s.extra.emplace_back("dialect", json_quoted(io.dialect));
  auto& auth = st.auth;
  s.extra.emplace_back("user", auth && auth->claims ? json_quoted(auth->claims->user) : "null");
  s.extra.emplace_back("subs", std::to_string(st.subs.size()));
  s.extra.emplace_back("rate_dropped", std::to_string(st.limiter.dropped()));
  s.extra.emplace_back("queue_frames", std::to_string(io.queued_frames));
  s.extra.emplace_back("queue_bytes", std::to_string(io.queued_bytes));
  s.extra.emplace_back("bytes_out", std::to_string(io.bytes_out));
  s.extra.emplace_back("idle_ms", io.last_in_us == 0
                                    ? std::to_string(s.age_ms)
                                    : std::to_string((now_us() - io.last_in_us) / 1000));
  return s;
}

void on_deadline(self_ptr self) {
  auto& st = self->state;
  if (st.subscribed_once || st.closing)
    return;
  node_metrics().conn_idle_closed.fetch_add(1, std::memory_order_relaxed);
  auto ms = st.settings->inbound.idle_timeout.count();
  auto after = ms % 1000 == 0 ? std::to_string(ms / 1000) + "s" : std::to_string(ms) + "ms";
  spdlog::info("conn.idle_timeout peer={} after={} closing 1008", st.peer(), after);
  close_after_flush(self, 1008, "idle timeout: no subscription within " + after);
}

void on_closed(self_ptr self) {
  unwatch_topics(self);
  self->quit();
}

// The topic behind a subscription failed, or a topic that owed answers ended.
void on_topic_down(self_ptr self, const caf::down_msg& dm) {
  auto& st = self->state;
  // Answers the dead topic still owed: it held no subscription of ours.
  if (auto o = st.owed.find(dm.source.id()); o != st.owed.end()) {
    auto reqs = std::move(o->second.requests);
    st.owed.erase(o);
    for (auto req : reqs)
      confirm(self, req);
  }
  auto i = st.topic_names.find(dm.source.id());
  if (i == st.topic_names.end())
    return;
  // The topic failed: attach again; the router spawns a new incarnation.
  // If it failed before confirming the client's subscribe, the same request
  // id is used, so the client still gets its ack (and no reset: it never saw
  // the old epoch); otherwise request 0 makes the new incarnation send a reset.
  auto name = i->second;
  st.topic_names.erase(i);
  auto& sub = st.subs[name];
  sub.topic = caf::actor{};
  std::shared_ptr<const subscribe_options> throttle;
  if (sub.throttle_ms > 0) {
    subscribe_options o;
    o.throttle_ms = sub.throttle_ms;
    throttle = std::make_shared<const subscribe_options>(std::move(o));
  }
  tell_router(self, attach_atom_v, sub.pending_req, std::vector<std::string>{name},
             make_subscriber(self, sub.format, std::move(throttle)));
}

// The message table, one handler per message of connection_actor_type. Built
// once and shared by every connection (see connection_self_actor); each
// handler runs for the actor that consume() names.
const connection_actor_type::behavior_type& shared_behavior() {
  using self = connection_self_actor;
  static const connection_actor_type::behavior_type table{
    [](client_command& cmd) { on_command(self::running(), cmd); },
    [](const client_error& err) { on_client_error(self::running(), err); },
    [](dropped_atom, uint64_t count) { on_dropped(self::running(), count); },
    [](closed_atom) { on_closed(self::running()); },
    [](binding_atom, const std::string& name, const caf::actor& topic) {
      bind_leaving(self::running(), name, topic);
      bind_topic(self::running(), name, topic);
    },
    [](attached_atom, uint64_t req, const std::string& name, const caf::actor& topic,
       topic_position& pos) { on_attached(self::running(), req, name, topic, std::move(pos)); },
    [](detached_atom, uint64_t req, const std::string&) { confirm(self::running(), req); },
    [](kick_atom) { on_kick(self::running()); },
    [](broadcast_atom, const std::string& json) { on_broadcast(self::running(), json); },
    [](broadcast_atom, const std::string& json, const std::string& event) {
      on_broadcast(self::running(), json, event);
    },
    [](adminev_atom, const std::string& name, const std::string& json) {
      on_admin_push(self::running(), name, json);
    },
    [](inspect_atom) { return describe(self::running()); },
    [](deadline_atom) { on_deadline(self::running()); },
    [](authexp_atom) { on_auth_expiry(self::running()); },
  };
  return table;
}

caf::result<caf::message> drop_unexpected(caf::scheduled_actor* ptr, caf::message_view& msg) {
  spdlog::debug("conn.unexpected_message peer={} message={}",
                static_cast<self_ptr>(ptr)->state.peer(),
                caf::to_string(msg.copy_content_to_message()));
  return caf::sec::unexpected_message;
}

} // namespace

thread_local connection_self_actor* connection_self_actor::running_ = nullptr;

caf::invoke_message_result connection_self_actor::consume(caf::mailbox_element& x) {
  // Restored on the way out: an actor may run inside another's turn.
  struct scope {
    connection_self_actor* previous;
    explicit scope(connection_self_actor* self) : previous(std::exchange(running_, self)) {
    }
    ~scope() {
      running_ = previous;
    }
  } naming{this};
  return stateful_actor::consume(x);
}

connection_actor_type::behavior_type
connection_actor(self_ptr self, session_sink_ptr sink, caf::actor router,
                 std::shared_ptr<const routing_settings> settings, client_info client) {
  auto& st = self->state;
  st.sink = std::move(sink);
  st.router = std::move(router);
  st.settings = std::move(settings);
  st.limiter = inbound_limiter{&st.settings->inbound};
  if (st.settings->track_membership && !st.sink->membership)
    st.sink->membership = std::make_unique<topic_membership>();
  st.quota.use(st.settings->users);
  register_with(self, st.settings->inspector, "connection");
  if (st.settings->inbound.idle_timeout.count() > 0)
    self->delayed_send(self, st.settings->inbound.idle_timeout, deadline_atom_v);
  start_auth(self, client.token); // the token is not kept
  // A failure here must cost only this client its connection.
  self->attach_functor([sink = st.sink](const caf::error& reason) {
    if (reason && reason != caf::exit_reason::user_shutdown) {
      node_metrics().conn_failures.fetch_add(1, std::memory_order_relaxed);
      spdlog::error("conn.actor_failed reason={} closing 1011", caf::to_string(reason));
      sink->close(1011, "internal error");
    }
  });
  self->set_exception_handler([self](std::exception_ptr& eptr) -> caf::error {
    unwatch_topics(self);
    return caf::scheduled_actor::default_exception_handler(self, eptr);
  });
  self->set_down_handler([self](caf::down_msg& dm) { on_topic_down(self, dm); });
  self->set_default_handler(drop_unexpected);
  return shared_behavior();
}

} // namespace tickgate
