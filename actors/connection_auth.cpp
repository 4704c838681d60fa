#include "actors/connection_auth.hpp"

#include <algorithm>
#include <map>

#include <spdlog/spdlog.h>

#include "actors/connection_admin.hpp"
#include "actors/metrics.hpp"
#include "proto/dialect_settings.hpp"
#include "proto/socketio_codec.hpp"
#include "proto/topic_name.hpp"

namespace tickgate {

namespace {

void send_text(connection_self self, const wire_format& f, std::string bytes) {
  node_metrics().conn_replies_out.fetch_add(1, std::memory_order_relaxed);
  self->state.sink->send(make_frame(std::move(bytes), is_binary(f)));
}

void send_error(connection_self self, const reply_to& to, error_code code,
                std::string_view message) {
  node_metrics().count_error(code);
  send_text(self, to.format, encode_error_frame(to, code, message));
}

const authenticator* rules(connection_self self) {
  return self->state.settings->auth.get();
}

// The auth record, made when first written: most clients never authenticate
// nor meet a namespace rule, and read as anonymous while it is absent.
auth_state& auth_of(connection_self self) {
  auto& a = self->state.auth;
  if (!a)
    a = std::make_unique<auth_state>();
  return *a;
}

const auth_claims* who(connection_self self) {
  auto& a = self->state.auth;
  return a && a->claims ? &*a->claims : nullptr;
}

std::string_view namespace_name(uint8_t ns) {
  auto& names = dialects().namespaces;
  return ns < names.size() ? std::string_view{names[ns]} : std::string_view{"/"};
}

bool in_admin_namespace(connection_self self, const wire_format& f) {
  return f.kind == dialect::socketio && rules(self)->is_admin_namespace(namespace_name(f.ns));
}

auth_verdict verify(connection_self self, std::string_view token, std::string_view entry) {
  auto verdict = rules(self)->verify(token, unix_now());
  auto& m = node_metrics();
  if (verdict) {
    m.auth_accepted.fetch_add(1, std::memory_order_relaxed);
    spdlog::debug("auth.accepted peer={} via={} user={} role={}", self->state.peer(),
                  entry, verdict.claims->user, verdict.claims->role);
  } else {
    m.count_auth_failure(verdict.failure);
    spdlog::info("auth.refused peer={} via={} reason={}", self->state.peer(), entry,
                 to_string(verdict.failure));
  }
  return verdict;
}

// Closes every subscription the current identity may no longer hold and
// tells the client, once per wire format, which ones and why.
void revoke_disallowed(connection_self self, std::string_view why) {
  auto& st = self->state;
  auto* a = rules(self);
  bool admin = a->is_admin(who(self));
  std::map<uint32_t, std::pair<wire_format, std::vector<std::string>>> by_format;
  std::vector<std::string> topics;
  for (auto& [topic, sub] : st.subs) {
    auto access = a->access(topic, who(self));
    bool allowed = (access == topic_access::open || access == topic_access::granted)
                   && (admin || !in_admin_namespace(self, sub.format));
    if (allowed)
      continue;
    topics.push_back(topic);
    auto& entry = by_format[sub.format.key()];
    entry.first = sub.format;
    entry.second.push_back(sub.name);
  }
  if (topics.empty())
    return;
  close_subscriptions(self, topics);
  node_metrics().auth_revoked.fetch_add(topics.size(), std::memory_order_relaxed);
  auto code = who(self) ? error_code::forbidden : error_code::unauthorized;
  for (auto& [key, entry] : by_format) {
    auto& names = entry.second;
    std::sort(names.begin(), names.end());
    std::string msg{why};
    msg += "; subscriptions closed:";
    for (auto& n : names)
      msg += " " + n;
    // Socket.IO style 1 ("subscribe") and 0 (rooms) share the namespace's error event.
    send_error(self, reply_to{entry.first, {}, {}}, code, msg);
  }
  spdlog::info("auth.revoked peer={} subscriptions={} reason={}", st.peer(),
               topics.size(), why);
}

// The server leaves every admin namespace: the client no longer proves the role.
void leave_admin_namespaces(connection_self self) {
  auto* a = self->state.auth.get();
  if (!a)
    return;
  bool was_admin = a->admin_ns.any();
  for (size_t ns = 0; ns < a->admin_ns.size(); ++ns) {
    if (!a->admin_ns.test(ns))
      continue;
    auto n = static_cast<uint8_t>(ns);
    a->admin_ns.reset(ns);
    a->refused_ns.set(ns);
    send_text(self, wire_format{dialect::socketio, false, n, 0}, socketio::disconnect(n));
  }
  left_admin_namespaces(self, was_admin);
}

int64_t unix_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

// When the current token stops being valid (ms since the Unix epoch), 0: never.
int64_t token_end_ms(connection_self self) {
  auto* c = who(self);
  if (!c || !c->expires)
    return 0;
  return (*c->expires + rules(self)->settings().leeway.count()) * 1000;
}

// Arms the expiry timer for the current token unless one fires before its end.
void arm_expiry(connection_self self) {
  auto& due = auth_of(self).timer_due_ms;
  auto end = token_end_ms(self);
  if (end == 0 || (due != 0 && due <= end))
    return;
  due = end;
  self->delayed_send(self, std::chrono::milliseconds{std::max<int64_t>(0, end - unix_now_ms())},
                     authexp_atom_v);
}

// Adopts verified claims: the expiry timer follows them, and no private
// subscription of a previous identity survives.
void adopt(connection_self self, auth_claims claims) {
  auto* before = who(self);
  bool changed_user = before && before->user != claims.user;
  auth_of(self).claims = std::move(claims);
  self->state.quota.become(who(self)->user); // before revoking: that gives back to this user
  arm_expiry(self);
  if (changed_user)
    revoke_disallowed(self, "authenticated as another user");
  if (!rules(self)->is_admin(who(self))) {
    revoke_disallowed(self, "authenticated without role " + rules(self)->settings().admin_role);
    leave_admin_namespaces(self);
  }
}

// The namespace system's /user: a client that proved its identity is in its
// own rooms without asking; `connection.authenticated` tells it once they are
// joined, so what is published to them from then on reaches it.
void join_user_rooms(connection_self self, uint8_t ns) {
  auto& d = dialects();
  auto* c = who(self);
  if (!c || d.user_namespace.empty() || d.namespace_index(d.user_namespace) != ns)
    return;
  auto rooms = d.rooms_of_user(c->user);
  request_ctx ctx;
  ctx.verb = "authenticated";
  ctx.echo = socketio::authenticated_body(c->user, c->role, rooms);
  join_on_own_account(self, wire_format{dialect::socketio, false, ns, 0}, std::move(rooms),
                      std::move(ctx));
}

void socketio_connect(connection_self self, client_command& cmd) {
  auto& st = self->state;
  auto ns = cmd.format.ns;
  auto refuse = [&](error_code code, const std::string& message) {
    auth_of(self).refused_ns.set(ns);
    node_metrics().count_error(code);
    send_text(self, cmd.format, socketio::connect_error(ns, code, message));
  };
  if (!cmd.token.empty() && rules(self)->judges(cmd.token)) {
    auto verdict = verify(self, cmd.token, "socketio");
    if (!verdict) {
      refuse(error_code::unauthorized, "unauthorized: " + verdict.message);
      return;
    }
    adopt(self, std::move(*verdict.claims));
  }
  if (rules(self)->is_admin_namespace(namespace_name(ns))) {
    if (!rules(self)->is_admin(who(self))) {
      node_metrics().auth_denied.fetch_add(1, std::memory_order_relaxed);
      auto code = who(self) ? error_code::forbidden : error_code::unauthorized;
      refuse(code, std::string{to_string(code)} + ": namespace "
                     + std::string{namespace_name(ns)} + " needs role "
                     + rules(self)->settings().admin_role);
      return;
    }
    auth_of(self);
    admit_to_admin_namespace(self, ns);
  }
  if (auto* a = st.auth.get())
    a->refused_ns.reset(ns);
  for (auto& frame : socketio::connected(ns, cmd.ctx.echo))
    send_text(self, cmd.format, std::move(frame));
  follow_namespace(self, ns);
  join_user_rooms(self, ns);
}

} // namespace

void start_auth(connection_self self, const std::string& token) {
  auto& st = self->state;
  if (!rules(self) || token.empty())
    return;
  if (!rules(self)->judges(token)) {
    spdlog::debug("auth.ignored peer={} reason=no key configured", st.peer());
    return;
  }
  auto verdict = verify(self, token, "handshake");
  if (!verdict) {
    // The close reason says why in every dialect; at most 123 bytes.
    auto reason = "unauthorized: " + verdict.message;
    st.sink->close(4001, reason.substr(0, 123));
    return;
  }
  adopt(self, std::move(*verdict.claims));
}

void on_auth(connection_self self, client_command& cmd) {
  reply_to to{cmd.format, cmd.id, cmd.ctx};
  if (cmd.format.kind == dialect::socketio && cmd.ctx.verb == "connect") {
    if (!rules(self)) {
      for (auto& frame : socketio::connected(cmd.format.ns, cmd.ctx.echo))
        send_text(self, cmd.format, std::move(frame));
      follow_namespace(self, cmd.format.ns);
      return;
    }
    socketio_connect(self, cmd);
    return;
  }
  if (!rules(self) || !rules(self)->judges(cmd.token)) {
    send_error(self, to, error_code::unsupported, "authentication is not enabled on this node");
    return;
  }
  auto verdict = verify(self, cmd.token, "auth_frame");
  if (!verdict) {
    // The identity proven before stays until its own expiry.
    send_error(self, to, error_code::unauthorized, verdict.message);
    return;
  }
  adopt(self, std::move(*verdict.claims));
  for (auto& bytes : encode_ack_frames(to, client_op::auth, {}, {}))
    send_text(self, cmd.format, std::move(bytes));
}

bool admit(connection_self self, const client_command& cmd) {
  auto* a = rules(self);
  auto& st = self->state;
  if (!a) { // no rules: nobody is an admin, every other topic is open
    for (auto& topic : cmd.topics)
      if (cmd.op == client_op::subscribe && is_system_topic(topic)) {
        send_error(self, reply_to{cmd.format, cmd.id, cmd.ctx}, error_code::unauthorized,
                   topic + " is a system topic: this node has no admins");
        return false;
      }
    return true;
  }
  reply_to to{cmd.format, cmd.id, cmd.ctx};
  // A new CONNECT may be admitted; leaving a refused namespace needs no answer.
  if (cmd.format.kind == dialect::socketio && st.auth && st.auth->refused_ns.test(cmd.format.ns)
      && cmd.ctx.verb != "connect") {
    if (cmd.ctx.verb == "disconnect")
      return false;
    auto code = who(self) ? error_code::forbidden : error_code::unauthorized;
    send_error(self, to, code,
               "namespace " + std::string{namespace_name(cmd.format.ns)} + " is not connected");
    return false;
  }
  if (cmd.op != client_op::subscribe)
    return true;
  for (auto& topic : cmd.topics) {
    auto access = a->access(topic, who(self));
    if (access == topic_access::open || access == topic_access::granted)
      continue;
    node_metrics().auth_denied.fetch_add(1, std::memory_order_relaxed);
    spdlog::info("auth.denied peer={} topic={} user={}", st.peer(), topic,
                 who(self) ? who(self)->user : std::string{"-"});
    send_error(self, to,
               access == topic_access::unauthorized ? error_code::unauthorized
                                                    : error_code::forbidden,
               a->denial_message(topic, access));
    return false;
  }
  return true;
}

void on_auth_expiry(connection_self self) {
  auto& st = self->state;
  auth_of(self).timer_due_ms = 0;
  auto end = token_end_ms(self);
  if (end == 0)
    return; // anonymous by now, or refreshed with a token that never expires
  if (unix_now_ms() < end) {
    arm_expiry(self); // refreshed meanwhile
    return;
  }
  spdlog::info("auth.expired peer={} user={}", st.peer(), who(self)->user);
  node_metrics().auth_expired.fetch_add(1, std::memory_order_relaxed);
  st.auth->claims.reset();
  st.quota.become({});
  revoke_disallowed(self, "token expired");
  leave_admin_namespaces(self);
}

} // namespace tickgate
