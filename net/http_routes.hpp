#pragma once

#include <optional>
#include <string>

#include <boost/beast/http.hpp>

#include "net/net_context.hpp"

namespace tickgate::net {

using http_request = boost::beast::http::request<boost::beast::http::string_body>;
using http_response = boost::beast::http::response<boost::beast::http::string_body>;

/// Answers a plain (non-upgrade) HTTP request:
///   GET /health, /ready, /lb/status, /api/stats, /metrics;
///   POST /api/publish, POST /api/broadcast.
/// (/admin/ and the polling endpoints of http_history.hpp are answered by
/// http_session, asynchronously.)
http_response handle_http(net_context& ctx, const http_request& req);

/// A JSON response with the request's version and keep-alive.
http_response json_response(const http_request& req,
                            boost::beast::http::status status,
                            std::string body);

/// `{"error":"..."}` with `status`.
http_response error_response(const http_request& req,
                             boost::beast::http::status status,
                             std::string_view message);

/// Why a Socket.IO WebSocket upgrade cannot be served (only EIO=4 with
/// transport=websocket is), or nullopt. Long-polling requests go to
/// net/engineio_polling.hpp.
std::optional<std::string> socketio_handshake_problem(std::string_view target);

/// 400 in the shape Socket.IO servers answer bad requests with.
http_response socketio_error_response(const http_request& req,
                                      std::string_view message);

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
