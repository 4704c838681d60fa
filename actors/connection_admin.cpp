#include "actors/connection_admin.hpp"

#include <chrono>

#include <caf/send.hpp>
#include <spdlog/spdlog.h>

#include "actors/metrics.hpp"
#include "proto/json_writer.hpp"
#include "proto/socketio_admin.hpp"
#include "proto/socketio_codec.hpp"

namespace tickgate {

namespace {

// How long an admin command may take (a listing gathers every actor's stats).
constexpr std::chrono::seconds admin_timeout{10};

void send_text(connection_self self, std::string bytes) {
  node_metrics().conn_replies_out.fetch_add(1, std::memory_order_relaxed);
  self->state.sink->send(make_frame(std::move(bytes), false));
}

bool watching(connection_self self) {
  auto* a = self->state.auth.get();
  return a && a->admin_ns.any();
}

void tell_inspector(connection_self self, bool watch) {
  if (auto& inspector = self->state.settings->inspector)
    caf::unsafe_send_as(self, inspector, watch_atom_v, watch);
}

std::string failure(std::string_view code, std::string_view message) {
  std::string out;
  json_writer{out}.begin_object().field("ok", false).field("code", code).field("error", message).end_object();
  return out;
}

} // namespace

void on_admin(connection_self self, client_command& cmd) {
  reply_to to{cmd.format, cmd.id, cmd.ctx};
  auto& st = self->state;
  auto* a = st.auth.get();
  if (cmd.format.kind != dialect::socketio || !a || !a->admin_ns.test(cmd.format.ns)) {
    node_metrics().count_error(error_code::forbidden);
    send_text(self, encode_error_frame(to, error_code::forbidden,
                                       "admin events are for clients admitted to an admin "
                                       "namespace (role admin)"));
    return;
  }
  auto& inspector = st.settings->inspector;
  if (!inspector || cmd.admin.empty()) {
    for (auto& f : socketio::admin_reply(to, failure("internal", "no inspector on this node")))
      send_text(self, std::move(f));
    return;
  }
  auto user = a->claims ? a->claims->user : std::string{"-"};
  spdlog::info("admin.event peer={} user={} event={} command={}", st.peer(), user,
               cmd.ctx.verb, cmd.admin.front());
  auto command = cmd.admin.front();
  std::vector<std::string> args(cmd.admin.begin() + 1, cmd.admin.end());
  self->request(inspector, admin_timeout, operate_atom_v, std::move(command), std::move(args))
    .then(
      [self, to](std::string& json) {
        for (auto& f : socketio::admin_reply(to, json))
          send_text(self, std::move(f));
      },
      [self, to](caf::error& err) {
        for (auto& f : socketio::admin_reply(to, failure("internal", caf::to_string(err))))
          send_text(self, std::move(f));
      });
}

void admit_to_admin_namespace(connection_self self, uint8_t ns) {
  bool was = watching(self);
  self->state.auth->admin_ns.set(ns);
  if (!was)
    tell_inspector(self, true);
}

void leave_admin_namespace(connection_self self, uint8_t ns) {
  auto* a = self->state.auth.get();
  if (!a || !a->admin_ns.test(ns))
    return;
  a->admin_ns.reset(ns);
  left_admin_namespaces(self, true);
}

void left_admin_namespaces(connection_self self, bool was_watching) {
  if (was_watching && !watching(self))
    tell_inspector(self, false);
}

void on_admin_push(connection_self self, const std::string& name, const std::string& json) {
  auto* a = self->state.auth.get();
  if (!a)
    return;
  for (size_t ns = 0; ns < a->admin_ns.size(); ++ns)
    if (a->admin_ns.test(ns))
      send_text(self, socketio::emit_packet(static_cast<uint8_t>(ns), name, json));
}

} // namespace tickgate
