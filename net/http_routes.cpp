#include "net/http_routes.hpp"

#include <caf/send.hpp>
#include <spdlog/fmt/fmt.h>

#include "actors/metrics.hpp"
#include "actors/vocabulary.hpp"
#include "proto/json_text.hpp"
#include "proto/publish_codec.hpp"

namespace tickgate::net {

namespace http = boost::beast::http;

std::string_view target_path(std::string_view target) {
  return target.substr(0, target.find('?'));
}

http_response json_response(const http_request& req, http::status status,
                            std::string body) {
  http_response res{status, req.version()};
  res.set(http::field::server, "tickgate");
  res.set(http::field::content_type, "application/json");
  res.keep_alive(req.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

http_response error_response(const http_request& req, http::status status,
                             std::string_view message) {
  std::string body = R"({"error":)";
  json_text::append_string(body, message);
  body += '}';
  return json_response(req, status, std::move(body));
}

namespace {

// The value of `key` in the query string of `target` ("" if absent).
std::string_view query_param(std::string_view target, std::string_view key) {
  auto q = target.find('?');
  if (q == std::string_view::npos)
    return {};
  auto query = target.substr(q + 1);
  while (!query.empty()) {
    auto amp = query.find('&');
    auto pair = query.substr(0, amp);
    auto eq = pair.find('=');
    if (pair.substr(0, eq) == key)
      return eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
    if (amp == std::string_view::npos)
      break;
    query.remove_prefix(amp + 1);
  }
  return {};
}

} // namespace

std::optional<std::string> socketio_handshake_problem(std::string_view target) {
  if (query_param(target, "EIO") != "4")
    return std::string{"Unsupported protocol version: this server speaks Engine.IO 4 (socket.io-client 3.x/4.x)"};
  if (query_param(target, "transport") != "websocket")
    return std::string{"WebSocket transport required: HTTP long-polling is not supported, "
                       "connect with transports: ['websocket']"};
  return std::nullopt;
}

http_response socketio_error_response(const http_request& req,
                                      std::string_view message) {
  std::string body = R"({"code":3,"message":)";
  json_text::append_string(body, message);
  body += '}';
  auto res = json_response(req, http::status::bad_request, std::move(body));
  return res;
}

namespace {

int64_t uptime_s(const net_context& ctx) {
  using namespace std::chrono;
  return duration_cast<seconds>(steady_clock::now() - ctx.node.started).count();
}

bool redis_mode(const net_context& ctx) {
  return ctx.node.mode == "redis";
}

bool redis_down(const net_context& ctx) {
  return redis_mode(ctx) && node_metrics().bridge_link_up.load() == 0;
}

// Liveness: 200 while the process serves; "degraded" while Redis is configured
// but unreachable (clients stay connected; deliveries resume on reconnect).
http_response health(net_context& ctx, const http_request& req) {
  auto& m = node_metrics();
  std::string redis = redis_mode(ctx)
                        ? fmt::format(R"(,"redis":"{}")", redis_down(ctx) ? "down" : "up")
                        : std::string{};
  return json_response(
    req, http::status::ok,
    fmt::format(R"({{"status":"{}","node":"{}","version":"{}","mode":"{}"{},)"
                R"("uptime_s":{},"connections":{},"topics":{},"subscriptions":{}}})",
                redis_down(ctx) ? "degraded" : "ok", ctx.node.node_id,
                ctx.node.version, ctx.node.mode, redis, uptime_s(ctx),
                m.conn_open.load(), m.topic_live.load(),
                m.topic_subscriptions.load()));
}

http_response stats(net_context& ctx, const http_request& req) {
  auto& m = node_metrics();
  std::string errors;
  for (int i = 1; i < error_code_count; ++i) {
    if (!errors.empty())
      errors += ',';
    errors += fmt::format(R"("{}":{})", to_string(static_cast<error_code>(i)),
                          m.conn_errors[i].load());
  }
  return json_response(
    req, http::status::ok,
    fmt::format(
      R"({{"node":"{}","uptime_s":{},)"
      R"("conn":{{"open":{},"accepted":{},"frames_in":{},"frames_too_large":{},)"
      R"("slow_closed":{},"replies_out":{},"errors":{{{}}}}},)"
      R"("topic":{{"live":{},"subscriptions":{},"events_in":{},"events_out":{},)"
      R"("bytes_out":{},"unrouted":{}}},)"
      R"("bridge":{{"link_up":{},"messages_in":{},"oversize_dropped":{},"published":{},)"
      R"("publish_dropped":{},"reconnects":{}}},)"
      R"("http":{{"publish_requests":{},"publish_rejected":{}}}}})",
      ctx.node.node_id, uptime_s(ctx), m.conn_open.load(),
      m.conn_accepted.load(), m.conn_frames_in.load(),
      m.conn_frames_too_large.load(), m.conn_slow_closed.load(),
      m.conn_replies_out.load(), errors, m.topic_live.load(),
      m.topic_subscriptions.load(), m.topic_events_in.load(),
      m.topic_events_out.load(), m.topic_bytes_out.load(),
      m.topic_unrouted.load(), m.bridge_link_up.load(),
      m.bridge_messages_in.load(), m.bridge_oversize.load(),
      m.bridge_published.load(), m.bridge_publish_dropped.load(),
      m.bridge_reconnects.load(), m.http_publish_requests.load(),
      m.http_publish_rejected.load()));
}

http_response publish(net_context& ctx, const http_request& req) {
  auto& m = node_metrics();
  m.http_publish_requests.fetch_add(1, std::memory_order_relaxed);
  auto decoded = decode_publish_body(req.body());
  if (auto* err = std::get_if<publish_error>(&decoded)) {
    m.http_publish_rejected.fetch_add(1, std::memory_order_relaxed);
    return error_response(req, http::status::bad_request, err->message);
  }
  if (redis_down(ctx)) {
    m.http_publish_rejected.fetch_add(1, std::memory_order_relaxed);
    return error_response(req, http::status::service_unavailable,
                          "redis is unavailable; nothing was published");
  }
  auto& items = std::get<std::vector<publish_item>>(decoded);
  auto ts = now_us();
  publication_batch batch;
  batch.reserve(items.size());
  for (auto& item : items) {
    auto p = std::make_shared<publication>();
    p->topic = std::move(item.topic);
    p->payload = std::move(item.payload);
    p->kind = payload_kind::json; // validated by the decoder
    p->ts_us = ts;
    batch.push_back(std::move(p));
  }
  auto n = batch.size();
  caf::anon_send(ctx.bus, publish_atom_v, std::move(batch));
  return json_response(req, http::status::ok,
                       fmt::format(R"({{"accepted":{}}})", n));
}

} // namespace

http_response handle_http(net_context& ctx, const http_request& req) {
  auto path = target_path(req.target());
  auto method = req.method();
  if (path == "/health") {
    if (method != http::verb::get && method != http::verb::head)
      return error_response(req, http::status::method_not_allowed, "use GET");
    auto res = health(ctx, req);
    if (method == http::verb::head)
      res.body().clear(); // Content-Length stays that of the GET answer
    return res;
  }
  if (path == "/api/stats") {
    if (method != http::verb::get)
      return error_response(req, http::status::method_not_allowed, "use GET");
    return stats(ctx, req);
  }
  if (path == "/api/publish") {
    if (method != http::verb::post)
      return error_response(req, http::status::method_not_allowed, "use POST");
    return publish(ctx, req);
  }
  if (auto* dialect = ctx.edge.dialect_at(path)) {
    if (*dialect == "socketio") // a long-polling or otherwise plain request
      return socketio_error_response(
        req, socketio_handshake_problem(req.target())
               .value_or("WebSocket transport required: send a WebSocket upgrade"));
    return error_response(req, http::status::upgrade_required,
                          "this path serves WebSocket clients only");
  }
  return error_response(req, http::status::not_found, "no such route");
}

} // namespace tickgate::net
