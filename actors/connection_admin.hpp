#pragma once

#include <cstdint>
#include <string>

#include "actors/connection_actor.hpp"

namespace tickgate {

// The connection actor's part in the admin namespaces (Socket.IO /admin,
// auth.admin-namespaces): it runs the events of clients it admitted there
// (connection_auth.cpp admits them by role) through the inspector, and
// tells the inspector while the client is in one, so that the client gets
// admin.stats and admin.alert pushes meanwhile.
//
//   not watching --admitted to an admin namespace--> watching (inspector told)
//   watching --left the last one (DISCONNECT, token expired, lost the role)--> not watching
//   the actor's end: the inspector's monitor drops it

/// An admin event (client_op::admin) from the client: forbidden unless the
/// client is an admin of the event's namespace; otherwise the inspector runs
/// the command and its answer becomes the Socket.IO ack (proto/socketio_admin.hpp).
void on_admin(connection_self self, client_command& cmd);

/// The client was admitted to admin namespace `ns`.
void admit_to_admin_namespace(connection_self self, uint8_t ns);

/// The client left namespace `ns` (its DISCONNECT).
void leave_admin_namespace(connection_self self, uint8_t ns);

/// connection_auth cleared admin namespaces (token expired, role lost);
/// `was_watching`: the client was in one before.
void left_admin_namespaces(connection_self self, bool was_watching);

/// A push from the inspector (admin.stats, admin.alert) into every admin
/// namespace the client is in.
void on_admin_push(connection_self self, const std::string& name, const std::string& json);

} // namespace tickgate
