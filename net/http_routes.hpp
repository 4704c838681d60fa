#pragma once

#include <optional>
#include <string>

#include <boost/beast/http.hpp>

#include "net/net_context.hpp"

namespace tickgate::net {

using http_request = boost::beast::http::request<boost::beast::http::string_body>;
using http_response = boost::beast::http::response<boost::beast::http::string_body>;

/// Answers a plain (non-upgrade) HTTP request:
///   GET /health, GET /api/stats, POST /api/publish.
http_response handle_http(net_context& ctx, const http_request& req);

/// A JSON response with the request's version and keep-alive.
http_response json_response(const http_request& req,
                            boost::beast::http::status status,
                            std::string body);

/// `{"error":"..."}` with `status`.
http_response error_response(const http_request& req,
                             boost::beast::http::status status,
                             std::string_view message);

/// Why a Socket.IO request cannot be served (only EIO=4 over the WebSocket
/// transport is), or nullopt.
std::optional<std::string> socketio_handshake_problem(std::string_view target);

/// 400 in the shape Socket.IO servers answer bad requests with.
http_response socketio_error_response(const http_request& req,
                                      std::string_view message);

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

/// The value of `key` in the query string of `target` ("" if absent; not %-decoded).
std::string_view query_param(std::string_view target, std::string_view key);

/// `s` with %XX escapes decoded.
std::string percent_decode(std::string_view s);

/// The client's token: `Authorization: Bearer <token>`, else the `token`
/// query parameter (%-decoded); "" if neither.
std::string bearer_token(const http_request& req);

/// The path of a request target without its query string.
std::string_view target_path(std::string_view target);

} // namespace tickgate::net
