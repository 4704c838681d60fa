#include "net/maintenance_gate.hpp"

#include "actors/metrics.hpp"
#include "proto/json_writer.hpp"

namespace tickgate::net {

namespace http = boost::beast::http;

bool in_maintenance(const net_context& ctx) {
  return ctx.maintenance && ctx.maintenance->on();
}

std::optional<http_response> maintenance_refusal(const net_context& ctx, const http_request& req) {
  if (!in_maintenance(ctx))
    return std::nullopt;
  auto state = ctx.maintenance->current();
  if (!state.on) // switched off meanwhile
    return std::nullopt;
  node_metrics().refused_maintenance.fetch_add(1, std::memory_order_relaxed);
  std::string body;
  json_writer{body}
    .begin_object()
    .field("error", "maintenance")
    .field("message", state.message)
    .field("retry_after", state.retry_after_s)
    .end_object();
  auto res = json_response(req, http::status::service_unavailable, std::move(body));
  res.set(http::field::retry_after, std::to_string(state.retry_after_s));
  res.keep_alive(false); // as other refused handshakes: the client comes back later
  return res;
}

} // namespace tickgate::net
