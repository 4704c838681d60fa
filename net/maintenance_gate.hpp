#pragma once

#include <optional>

#include "net/http_routes.hpp"

namespace tickgate::net {

/// The answer to a client handshake while the node is in maintenance mode
/// (actors/maintenance.hpp): 503 with Retry-After and a JSON body saying why,
///   {"error":"maintenance","message":"...","retry_after":30}
/// or nullopt while the node admits handshakes. Every handshake path (the
/// WebSocket upgrade, and any other transport's session handshake) asks it
/// before admitting a client; open connections are never affected. Counted
/// in tickgate_handshakes_refused_total{reason="maintenance"}.
std::optional<http_response> maintenance_refusal(const net_context& ctx, const http_request& req);

/// Whether the node is in maintenance mode (/ready and /lb/status answer 503).
bool in_maintenance(const net_context& ctx);

} // namespace tickgate::net
