#pragma once

#include <cstdint>

#include <caf/stateful_actor.hpp>

#include "actors/connection_actor.hpp"

namespace tickgate {

// The connection actor's authentication: which identity a client proved
// (connection_state::auth), what it may follow, and what happens when its
// token runs out. The rules themselves live in authenticator (auth.hpp).
//
// Identity per connection:
//
//   anonymous --valid token--> user U (exp E) --valid token--> user U' (exp E')
//       ^                          |
//       +------ E + leeway --------+  private subscriptions closed, client told
//
// A token arrives with the handshake (Authorization: Bearer, ?token=), in a
// native auth frame (also to refresh before E), or in a Socket.IO CONNECT's
// auth.token. The expiry timer checks the token current when it fires, so a
// refresh needs no cancellation.

/// Checks the handshake's token. One that fails closes the connection with
/// 4001: the client asked to be someone it could not prove to be, and
/// dialects without an auth frame have no other way to say so.
void start_auth(connection_self self, const std::string& token);

/// A native auth frame (ack or unauthorized error) or a Socket.IO CONNECT
/// (ctx.verb "connect": CONNECT reply or CONNECT_ERROR).
void on_auth(connection_self self, client_command& cmd);

/// Whether `cmd` may proceed: a subscribe names no private topic of someone
/// else and comes from no Socket.IO namespace refused at CONNECT. Replies the
/// error itself when not.
bool admit(connection_self self, const client_command& cmd);

/// The expiry timer fired: expire the token if its time is up, else re-arm.
void on_auth_expiry(connection_self self);

} // namespace tickgate
