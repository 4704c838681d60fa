#include "net/http_routes.hpp"

#include <caf/send.hpp>
#include <spdlog/fmt/fmt.h>

#include "actors/metrics.hpp"
#include "actors/vocabulary.hpp"
#include "proto/json_text.hpp"
#include "proto/publish_codec.hpp"

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
  std::string body = R"({"error":)";
  json_text::append_string(body, message);
  body += '}';
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
      R"("http":{{"publish_requests":{},"publish_rejected":{}}},)"
      R"("protection":{{"rate_limited":{},"rate_closed":{},"idle_closed":{},)"
      R"("refused_origin":{},"refused_full":{},"refused_ip_cap":{},"refused_ip_rate":{},)"
      R"("refused_malformed":{}}}}})",
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
      m.http_publish_rejected.load(), m.conn_rate_limited.load(),
      m.conn_rate_closed.load(), m.conn_idle_closed.load(), m.refused_origin.load(),
      m.refused_full.load(), m.refused_ip_cap.load(), m.refused_ip_rate.load(),
      m.refused_malformed.load()));
}

// Prometheus text exposition (version 0.0.4).
http_response prometheus(net_context& ctx, const http_request& req) {
  auto& m = node_metrics();
  std::string out;
  auto metric = [&](const char* name, const char* type, const char* help) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
  };
  auto sample = [&](const char* name, auto value, std::string labels = {}) {
    out += fmt::format("{}{} {}\n", name, labels.empty() ? "" : "{" + labels + "}", value);
  };
  static const char* dialect_names[] = {"native", "action", "stream", "typed", "socketio", "auto"};
  metric("tickgate_connections", "gauge", "Open WebSocket connections by endpoint dialect.");
  for (size_t i = 0; i < 6; ++i)
    sample("tickgate_connections", m.conn_by_dialect[i].load(),
           fmt::format(R"(dialect="{}")", dialect_names[i]));
  metric("tickgate_connections_accepted_total", "counter", "WebSocket handshakes completed.");
  sample("tickgate_connections_accepted_total", m.conn_accepted.load());
  metric("tickgate_subscriptions", "gauge", "Topic subscriptions (topic, client pairs).");
  sample("tickgate_subscriptions", m.topic_subscriptions.load());
  metric("tickgate_topics", "gauge", "Live topic actors.");
  sample("tickgate_topics", m.topic_live.load());
  metric("tickgate_messages_in_total", "counter", "Client frames received.");
  sample("tickgate_messages_in_total", m.conn_frames_in.load());
  metric("tickgate_bytes_in_total", "counter", "Client frame bytes received.");
  sample("tickgate_bytes_in_total", m.conn_bytes_in.load());
  metric("tickgate_messages_out_total", "counter", "Frames queued to clients, by kind.");
  sample("tickgate_messages_out_total", m.topic_events_out.load(), R"(kind="event")");
  sample("tickgate_messages_out_total", m.conn_replies_out.load(), R"(kind="reply")");
  metric("tickgate_bytes_out_total", "counter", "Event frame bytes queued to clients.");
  sample("tickgate_bytes_out_total", m.topic_bytes_out.load());
  metric("tickgate_publications_total", "counter", "Publications routed to topics.");
  sample("tickgate_publications_total", m.topic_events_in.load());
  metric("tickgate_publications_unrouted_total", "counter", "Publications for topics nobody follows.");
  sample("tickgate_publications_unrouted_total", m.topic_unrouted.load());
  metric("tickgate_errors_total", "counter", "Error frames sent to clients, by code.");
  for (int i = 1; i < error_code_count; ++i)
    sample("tickgate_errors_total", m.conn_errors[i].load(),
           fmt::format(R"(code="{}")", to_string(static_cast<error_code>(i))));
  metric("tickgate_auth_accepted_total", "counter", "Client tokens verified.");
  sample("tickgate_auth_accepted_total", m.auth_accepted.load());
  metric("tickgate_auth_failures_total", "counter", "Client tokens refused, by reason.");
  for (size_t i = 0; i < auth_failure_count; ++i)
    sample("tickgate_auth_failures_total", m.auth_failures[i].load(),
           fmt::format(R"(reason="{}")", to_string(static_cast<auth_failure>(i))));
  metric("tickgate_auth_denied_total", "counter", "Private topics and admin namespaces refused to a client.");
  sample("tickgate_auth_denied_total", m.auth_denied.load());
  metric("tickgate_auth_expired_total", "counter", "Connections whose token expired without a refresh.");
  sample("tickgate_auth_expired_total", m.auth_expired.load());
  metric("tickgate_auth_revoked_total", "counter", "Private subscriptions closed by token expiry or a change of identity.");
  sample("tickgate_auth_revoked_total", m.auth_revoked.load());
  metric("tickgate_frames_too_large_total", "counter", "Connections closed with 1009.");
  sample("tickgate_frames_too_large_total", m.conn_frames_too_large.load());
  metric("tickgate_protocol_errors_total", "counter", "Connections closed for broken WebSocket framing (1002, 1007).");
  sample("tickgate_protocol_errors_total", m.conn_protocol_errors.load());
  metric("tickgate_slow_consumer_disconnects_total", "counter", "Connections closed as slow consumers (queue overflow).");
  sample("tickgate_slow_consumer_disconnects_total", m.conn_slow_closed.load());
  metric("tickgate_slow_consumer_dropped_total", "counter", "Queued events dropped for slow consumers (ws.slow-consumer-policy=drop-oldest).");
  sample("tickgate_slow_consumer_dropped_total", m.conn_slow_dropped.load());
  metric("tickgate_paced_writes_total", "counter", "Socket writes held back by write pacing (ws.pace-above); their frames went out together.");
  sample("tickgate_paced_writes_total", m.conn_paced_writes.load());
  metric("tickgate_read_pauses_total", "counter", "Times a session stopped reading its client while the connection actor had ws.inbound-queue messages unprocessed.");
  sample("tickgate_read_pauses_total", m.conn_read_pauses.load());
  metric("tickgate_batched_writes_total", "counter", "Socket writes sent together with others in one system call (ws.send-batch).");
  sample("tickgate_batched_writes_total", m.conn_batched_writes.load());
  metric("tickgate_handshakes_refused_total", "counter", "WebSocket handshakes refused, by reason.");
  sample("tickgate_handshakes_refused_total", m.refused_origin.load(), R"(reason="origin")");
  sample("tickgate_handshakes_refused_total", m.refused_full.load(), R"(reason="server_full")");
  sample("tickgate_handshakes_refused_total", m.refused_ip_cap.load(), R"(reason="ip_connections")");
  sample("tickgate_handshakes_refused_total", m.refused_ip_rate.load(), R"(reason="ip_handshake_rate")");
  sample("tickgate_handshakes_refused_total", m.refused_malformed.load(), R"(reason="malformed")");
  metric("tickgate_rate_limited_messages_total", "counter", "Client messages dropped by the inbound rate limit.");
  sample("tickgate_rate_limited_messages_total", m.conn_rate_limited.load());
  metric("tickgate_rate_limit_disconnects_total", "counter", "Connections closed 1008 for sustained flooding.");
  sample("tickgate_rate_limit_disconnects_total", m.conn_rate_closed.load());
  metric("tickgate_idle_disconnects_total", "counter", "Connections closed for not subscribing within the idle timeout.");
  sample("tickgate_idle_disconnects_total", m.conn_idle_closed.load());
  metric("tickgate_connection_failures_total", "counter", "Connection actors that failed (closed 1011).");
  sample("tickgate_connection_failures_total", m.conn_failures.load());
  metric("tickgate_topic_restarts_total", "counter", "Topic actors restarted after a failure.");
  sample("tickgate_topic_restarts_total", m.topic_restarts.load());
  metric("tickgate_redis_up", "gauge", "1 while Redis is connected (0 also in embedded mode).");
  sample("tickgate_redis_up", m.bridge_link_up.load());
  metric("tickgate_redis_reconnects_total", "counter", "Redis connections re-established.");
  sample("tickgate_redis_reconnects_total", m.bridge_reconnects.load());
  metric("tickgate_redis_messages_in_total", "counter", "Messages read from Redis.");
  sample("tickgate_redis_messages_in_total", m.bridge_messages_in.load());
  metric("tickgate_largest_mailbox", "gauge", "Largest mailbox among routing actors (sampled every 5 s).");
  sample("tickgate_largest_mailbox", m.largest_mailbox.load());
  metric("tickgate_publish_to_write_seconds", "histogram",
         "From the node accepting a publication to the event frame's socket write completing.");
  uint64_t cumulative = 0;
  for (size_t i = 0; i < metrics::latency_bounds_us.size(); ++i) {
    cumulative += m.latency_buckets[i].load();
    sample("tickgate_publish_to_write_seconds_bucket", cumulative,
           fmt::format(R"(le="{}")", static_cast<double>(metrics::latency_bounds_us[i]) / 1e6));
  }
  cumulative += m.latency_buckets.back().load();
  sample("tickgate_publish_to_write_seconds_bucket", cumulative, R"(le="+Inf")");
  sample("tickgate_publish_to_write_seconds_sum",
         fmt::format("{:.6f}", static_cast<double>(m.latency_sum_us.load()) / 1e6));
  sample("tickgate_publish_to_write_seconds_count", m.latency_count.load());
  metric("tickgate_uptime_seconds", "gauge", "Seconds since the node started.");
  sample("tickgate_uptime_seconds", uptime_s(ctx));
  http_response res{http::status::ok, req.version()};
  res.set(http::field::server, "tickgate");
  res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
  res.keep_alive(req.keep_alive());
  res.body() = std::move(out);
  res.prepare_payload();
  return res;
}

// Readiness: listeners up (we are answering) and Redis connected when configured.
http_response ready(net_context& ctx, const http_request& req) {
  if (redis_down(ctx))
    return json_response(req, http::status::service_unavailable,
                         R"({"ready":false,"reason":"redis unavailable"})");
  return json_response(req, http::status::ok, R"({"ready":true})");
}

// Figures a load balancer can weigh nodes by.
http_response lb_status(net_context& ctx, const http_request& req) {
  auto& m = node_metrics();
  bool accepting = !redis_down(ctx);
  return json_response(
    req, accepting ? http::status::ok : http::status::service_unavailable,
    fmt::format(R"({{"node":"{}","accepting":{},"connections":{},"subscriptions":{},)"
                R"("topics":{},"events_out":{},"largest_mailbox":{}}})",
                ctx.node.node_id, accepting ? "true" : "false", m.conn_open.load(),
                m.topic_subscriptions.load(), m.topic_live.load(),
                m.topic_events_out.load(), m.largest_mailbox.load()));
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
