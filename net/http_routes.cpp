#include "net/http_routes.hpp"

#include <caf/send.hpp>

#include "actors/metrics.hpp"
#include "actors/vocabulary.hpp"
#include "net/kafka_feed.hpp"
#include "proto/json_writer.hpp"
#include "proto/publish_codec.hpp"
#include "net/maintenance_gate.hpp"
#include "net/static_files.hpp"

namespace tickgate::net {

namespace beast = boost::beast;
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
  std::string body;
  json_writer{body}.begin_object().field("error", message).end_object();
  return json_response(req, status, std::move(body));
}

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

std::string percent_decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      auto hex = [](char c) -> int {
        return c >= '0' && c <= '9' ? c - '0'
               : c >= 'a' && c <= 'f' ? c - 'a' + 10
               : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                      : -1;
      };
      int hi = hex(s[i + 1]), lo = hex(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

std::string bearer_token(const http_request& req) {
  auto auth = std::string_view{req[http::field::authorization]};
  constexpr std::string_view scheme = "Bearer ";
  if (auth.size() > scheme.size()
      && beast::iequals(auth.substr(0, scheme.size()), scheme)) {
    auto token = auth.substr(scheme.size());
    while (!token.empty() && token.front() == ' ')
      token.remove_prefix(1);
    return std::string{token};
  }
  return percent_decode(query_param(req.target(), "token"));
}

std::optional<std::string> socketio_handshake_problem(std::string_view target) {
  if (query_param(target, "EIO") != "4")
    return std::string{"Unsupported protocol version: this server speaks Engine.IO 4 (socket.io-client 3.x/4.x)"};
  if (query_param(target, "transport") != "websocket")
    return std::string{"WebSocket transport required: a WebSocket upgrade names transport=websocket "
                       "(HTTP long-polling is served without the upgrade)"};
  return std::nullopt;
}

http_response socketio_error_response(const http_request& req,
                                      std::string_view message) {
  std::string body;
  json_writer{body}.begin_object().field("code", 3).field("message", message).end_object();
  return json_response(req, http::status::bad_request, std::move(body));
}

namespace {

int64_t uptime_s(const net_context& ctx) {
  using namespace std::chrono;
  return duration_cast<seconds>(steady_clock::now() - ctx.node.started).count();
}

// True when the node runs feed `name` (its mode lists its feeds: "redis+kafka").
bool has_feed(const net_context& ctx, std::string_view name) {
  std::string_view mode = ctx.node.mode;
  for (size_t start = 0; start <= mode.size();) {
    auto plus = mode.find('+', start);
    if (mode.substr(start, plus - start) == name)
      return true;
    if (plus == std::string_view::npos)
      break;
    start = plus + 1;
  }
  return false;
}

bool redis_mode(const net_context& ctx) {
  return has_feed(ctx, "redis");
}

bool redis_down(const net_context& ctx) {
  return redis_mode(ctx) && node_metrics().bridge_link_up.load() == 0;
}

bool kafka_down(const net_context& ctx) {
  return has_feed(ctx, "kafka") && node_metrics().kafka_up.load() == 0;
}

// Liveness: 200 while the process serves; "degraded" while Redis is configured
// but unreachable (clients stay connected; deliveries resume on reconnect).
http_response health(net_context& ctx, const http_request& req) {
  std::string body;
  json_writer w{body};
  w.begin_object()
    .field("status", redis_down(ctx) || kafka_down(ctx) ? "degraded" : "ok")
    .field("node", ctx.node.node_id)
    .field("version", ctx.node.version)
    .field("mode", ctx.node.mode);
  if (redis_mode(ctx))
    w.field("redis", redis_down(ctx) ? "down" : "up");
  if (has_feed(ctx, "kafka")) {
    w.field("kafka", kafka_down(ctx) ? "down" : "up");
    if (kafka_down(ctx))
      w.field("kafka_reason", net::kafka_feed::down_reason());
  }
  w.field("uptime_s", uptime_s(ctx));
  if (!ctx.cluster_name.empty()) { // this node's view of its cluster
    auto& m = node_metrics();
    w.key("cluster")
      .begin_object()
      .field("name", ctx.cluster_name)
      .field("members", m.cluster_members_up.load() + m.cluster_members_leaving.load()
                          + m.cluster_members_down.load())
      .field("up", m.cluster_members_up.load())
      .field("leaving", m.cluster_members_leaving.load())
      .field("down", m.cluster_members_down.load())
      .end_object();
  }
  write_summary(node_metrics(), w);
  w.end_object();
  return json_response(req, http::status::ok, std::move(body));
}

http_response stats(net_context& ctx, const http_request& req) {
  std::string body;
  json_writer w{body};
  w.begin_object().field("node", ctx.node.node_id).field("uptime_s", uptime_s(ctx));
  write_stats(node_metrics(), w);
  w.end_object();
  return json_response(req, http::status::ok, std::move(body));
}

// Prometheus text exposition (version 0.0.4).
http_response prometheus(net_context& ctx, const http_request& req) {
  std::string out;
  write_prometheus(node_metrics(), out);
  out += "# HELP tickgate_uptime_seconds Seconds since the node started.\n"
         "# TYPE tickgate_uptime_seconds gauge\n"
         "tickgate_uptime_seconds ";
  out += std::to_string(uptime_s(ctx));
  out += '\n';
  http_response res{http::status::ok, req.version()};
  res.set(http::field::server, "tickgate");
  res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
  res.keep_alive(req.keep_alive());
  res.body() = std::move(out);
  res.prepare_payload();
  return res;
}

// Readiness: listeners up (we are answering), not in maintenance (load
// balancers drain the node), and Redis connected when configured.
http_response ready(net_context& ctx, const http_request& req) {
  if (in_maintenance(ctx)) {
    std::string body;
    json_writer{body}
      .begin_object()
      .field("ready", false)
      .field("reason", "maintenance")
      .field("message", ctx.maintenance->current().message)
      .end_object();
    return json_response(req, http::status::service_unavailable, std::move(body));
  }
  if (redis_down(ctx))
    return json_response(req, http::status::service_unavailable,
                         R"({"ready":false,"reason":"redis unavailable"})");
  if (kafka_down(ctx))
    return json_response(req, http::status::service_unavailable,
                         R"({"ready":false,"reason":"kafka unavailable"})");
  return json_response(req, http::status::ok, R"({"ready":true})");
}

// Figures a load balancer can weigh nodes by.
http_response lb_status(net_context& ctx, const http_request& req) {
  bool accepting = !redis_down(ctx) && !in_maintenance(ctx);
  std::string body;
  json_writer w{body};
  w.begin_object().field("node", ctx.node.node_id).field("accepting", accepting);
  write_summary(node_metrics(), w);
  w.end_object();
  return json_response(req, accepting ? http::status::ok : http::status::service_unavailable,
                       std::move(body));
}

// A publication of JSON `payload` (validated by the decoder) accepted at `ts`.
publication_ptr json_publication(std::string topic, std::string payload, std::string event,
                                 int64_t ts, bool snapshot) {
  auto p = std::make_shared<publication>();
  p->topic = std::move(topic);
  p->payload = std::move(payload);
  p->kind = payload_kind::json;
  p->ts_us = ts;
  p->snapshot = snapshot;
  p->event = std::move(event);
  return p;
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
  for (auto& item : items)
    batch.push_back(json_publication(std::move(item.topic), std::move(item.payload),
                                     std::move(item.event), ts, item.snapshot));
  auto n = batch.size();
  caf::anon_send(ctx.bus, publish_atom_v, std::move(batch));
  std::string body;
  json_writer{body}.begin_object().field("accepted", n).end_object();
  return json_response(req, http::status::ok, std::move(body));
}

// One body, many topics: the same data and event name published to each
// through the publishing feed, as /api/publish does.
http_response broadcast(net_context& ctx, const http_request& req) {
  auto& m = node_metrics();
  m.http_broadcast_requests.fetch_add(1, std::memory_order_relaxed);
  auto decoded = decode_broadcast_body(req.body());
  if (auto* err = std::get_if<publish_error>(&decoded)) {
    m.http_broadcast_rejected.fetch_add(1, std::memory_order_relaxed);
    return error_response(req, http::status::bad_request, err->message);
  }
  if (redis_down(ctx)) {
    m.http_broadcast_rejected.fetch_add(1, std::memory_order_relaxed);
    return error_response(req, http::status::service_unavailable,
                          "redis is unavailable; nothing was published");
  }
  auto& item = std::get<broadcast_item>(decoded);
  auto ts = now_us();
  publication_batch batch;
  batch.reserve(item.topics.size());
  for (auto& topic : item.topics)
    batch.push_back(json_publication(std::move(topic), item.payload, item.event, ts, false));
  auto n = batch.size();
  m.http_broadcast_topics.fetch_add(n, std::memory_order_relaxed);
  caf::anon_send(ctx.bus, publish_atom_v, std::move(batch));
  std::string body;
  json_writer{body}.begin_object().field("accepted", n).end_object();
  return json_response(req, http::status::ok, std::move(body));
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
  if (path == "/metrics" && method == http::verb::get)
    return prometheus(ctx, req);
  if (path == "/ready" && method == http::verb::get)
    return ready(ctx, req);
  if (path == "/lb/status" && method == http::verb::get)
    return lb_status(ctx, req);
  if (path == "/api/publish") {
    if (method != http::verb::post)
      return error_response(req, http::status::method_not_allowed, "use POST");
    return publish(ctx, req);
  }
  if (path == "/api/broadcast") {
    if (method != http::verb::post)
      return error_response(req, http::status::method_not_allowed, "use POST");
    return broadcast(ctx, req);
  }
  if (auto file = static_file_response(req))
    return std::move(*file);
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
