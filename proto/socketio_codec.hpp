#pragma once

#include <array>
#include <string>

#include "proto/frame_codec.hpp"
#include "proto/frame_decoder.hpp"

namespace tickgate {

/// Socket.IO v4 over the WebSocket transport (Engine.IO v4 framing):
///   Engine.IO: 0 open (server), 1 close, 2 ping (server), 3 pong (client), 4 message
///   Socket.IO: 0 CONNECT, 1 DISCONNECT, 2 EVENT, 3 ACK, 4 CONNECT_ERROR
///   packet = <type>[<namespace>,][<ack id>][<JSON>]
/// A CONNECT becomes an `auth` command (ctx.verb "connect", ctx.echo the
/// namespace sid, token from the auth payload): the connection actor answers it.
/// Client events: subscribe/unsubscribe {symbols:[...]}, join_room/leave_room
/// {room:"price:X"}, ping. Topics come from dialect_settings. The object of
/// subscribe and join_room may add since/last/snapshot/throttle_ms, as native
/// subscribes do (`since` keyed by symbol or room). The admin events
/// (admin.metrics, admin.broadcast, admin.command) become client_op::admin
/// commands (socketio_admin.hpp).
/// In the market namespace (dialect_settings::market_namespace) subscribe and
/// unsubscribe take {symbols, channels} and name one room per symbol and
/// channel; the command's names are the rooms, and ctx.echo carries the
/// request's `"symbols":[...],"channels":[...]` members for the ack.
/// A DISCONNECT of a connected namespace is an unsubscribe with verb
/// "disconnect" and no topics: the connection actor, which knows every room
/// it holds in the namespace (its own joins included), leaves them all.
class socketio_decoder : public frame_decoder {
public:
  explicit socketio_decoder(decoder_options options);

  std::vector<std::string> on_open() override;
  decoder_output decode(std::string_view bytes, bool binary) override;
  std::optional<std::string> heartbeat() override { return std::string{"2"}; }

private:
  void on_packet(std::string_view packet, decoder_output& out);
  void on_event(uint8_t ns, std::optional<uint64_t> ack, std::string_view json,
                decoder_output& out);

  decoder_options options_;
  std::array<bool, 256> connected_{};
};

namespace socketio {

/// "42/prices,[...]"-style prefix: packet type, namespace (omitted for "/").
std::string packet_prefix(char type, uint8_t ns);

/// An EVENT packet `name` with one argument into namespace `ns` (replies,
/// admin.stats, admin.alert): `json` is a valid JSON value.
std::string emit_packet(uint8_t ns, std::string_view name, std::string_view json);

std::string event(const wire_format& f, const event_fields& ev);
/// `positions` (subscribe / join_room) go into the ack packet's object.
/// Verb "authenticated" (the rooms a /user client joins on connect) answers
/// with the `connection.authenticated` event whose object is ctx.echo.
std::vector<std::string> ack(const reply_to& to, client_op op,
                             std::span<const std::string> names,
                             std::span<const topic_position> positions = {});
std::string error(const reply_to& to, error_code code, std::string_view message);
std::string pong(const reply_to& to, int64_t ts_us);
std::string status(const wire_format& f, std::string_view topic, std::string_view state,
                   std::string_view message);
/// The CONNECT reply and the "connected" event of namespace `ns`.
std::vector<std::string> connected(uint8_t ns, std::string_view sid);
/// CONNECT_ERROR: err.message is `message`, err.data.code the stable code.
std::string connect_error(uint8_t ns, error_code code, std::string_view message);
/// The server leaves namespace `ns` (DISCONNECT).
std::string disconnect(uint8_t ns);
/// The object of `connection.authenticated`:
/// {"userId":"42","role":"trader","rooms":["user:42",...]} (role only when set).
std::string authenticated_body(std::string_view user, std::string_view role,
                               std::span<const std::string> rooms);

} // namespace socketio

} // namespace tickgate
