#pragma once

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "proto/frame_codec.hpp"

namespace tickgate::socketio {

// The admin namespace's events (README "Socket.IO /admin events";
// proto/README.md has the shapes). A client event becomes an inspector
// command (the commands tickgatectl sends) carried by a client_command with
// op admin; the inspector's JSON answer becomes the Socket.IO ack.
//
//   client -> server                               inspector command
//   admin.metrics                                  stats (answered as an admin.metrics event too)
//   admin.broadcast <json>                         broadcast <json>
//   admin.command {command, args}                  kick <id> <user> | restart <topic> |
//                                                  maintenance on|off <message> <retry-after> |
//                                                  stats | info | topics | connections | show <id>
//   server -> client: admin.stats (pushed), admin.alert {level, kind, message, ts}

/// Whether `name` is an admin namespace client event.
bool is_admin_event(std::string_view name);

/// The inspector command and its arguments that admin event `name` asks for
/// (`arg`: the event's first argument as JSON text, empty when it has none),
/// or a message saying what is wrong with the event.
std::variant<std::vector<std::string>, std::string>
admin_request(std::string_view name, std::string_view arg);

/// The frames that answer an admin event from the inspector's JSON answer
/// (`{"ok":true,...}` or `{"ok":false,"code":...,"error":...}`): the ack
/// `{success:true, result:{...}}` or `{success:false, error, code}` when the
/// client asked for one, an `admin.metrics` event for admin.metrics, and an
/// `error` event for a failure nobody acks.
std::vector<std::string> admin_reply(const reply_to& to, std::string_view inspector_json);

} // namespace tickgate::socketio
