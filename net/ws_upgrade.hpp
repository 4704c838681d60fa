#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "actors/connection_actor.hpp"
#include "net/http_routes.hpp"
#include "net/net_context.hpp"
#include "proto/frame_decoder.hpp"

namespace tickgate::net {

/// The WebSocket opening handshake (RFC 6455 section 4), both halves:
/// checking the client's upgrade request (http_session refuses a bad one)
/// and building the server's 101 answer (ws_session writes it).

/// What makes `req` (an upgrade request) an invalid WebSocket opening
/// handshake (RFC 6455 section 4.2.1), as the status and message to refuse it
/// with: 400 for a malformed request, 426 for a version other than 13 (the
/// refusal then names version 13). nullopt if the request is valid.
struct upgrade_refusal {
  boost::beast::http::status status;
  std::string message;
};
std::optional<upgrade_refusal> websocket_upgrade_problem(const http_request& req);

/// The refusal as a response (426 carries Sec-WebSocket-Version: 13).
http_response upgrade_refusal_response(const http_request& req, const upgrade_refusal& r);

/// Sec-WebSocket-Accept for the client's Sec-WebSocket-Key: base64 of the
/// SHA-1 of the key and the RFC 6455 GUID.
std::string websocket_accept_key(std::string_view key);

/// The first subprotocol in `offered` (a Sec-WebSocket-Protocol list) that
/// the native dialect speaks ("tickgate.v1.json", "tickgate.v1.proto"),
/// written to `chosen`, and the reply format it selects; nullopt if none.
std::optional<wire_format> pick_subprotocol(std::string_view offered, std::string& chosen);

/// The 101 Switching Protocols answer (RFC 6455 section 4.2.2) to a request
/// with `key`, naming `subprotocol` unless it is empty.
std::string switching_protocols(std::string_view key, std::string_view subprotocol);

/// What a valid upgrade request to an endpoint of `dialect` sets up: the
/// client as its connection actor sees it, the frame decoder, and the 101.
struct accepted_upgrade {
  client_info client;
  std::unique_ptr<frame_decoder> decoder;
  std::string response; // the 101, to be written before any frame
};
accepted_upgrade accept_upgrade(const http_request& req, const std::string& dialect,
                                const edge_settings& edge);

} // namespace tickgate::net
