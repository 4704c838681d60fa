#include "net/http_history.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

#include <spdlog/spdlog.h>

#include "actors/metrics.hpp"
#include "proto/dialect_settings.hpp"
#include "proto/frame_codec.hpp"
#include "proto/json_writer.hpp"
#include "proto/topic_name.hpp"

namespace tickgate::net {

namespace http = boost::beast::http;

namespace {

using refusal = history_refusal;

// At most this much of a client's value is quoted back in an error.
constexpr size_t max_quoted = 64;

std::string quoted(std::string_view value) {
  auto cut = value.substr(0, max_quoted);
  return "'" + std::string{cut} + (cut.size() < value.size() ? "...'" : "'");
}

// {"error":"...","<about>":"<name>"}: the message and what it is about, for
// clients that act on it without parsing the message.
refusal refuse(http::status status, std::string_view about, std::string_view name,
               std::string_view message) {
  std::string body;
  json_writer{body}.begin_object().field("error", message).field(about, name).end_object();
  return {status, std::move(body)};
}

refusal bad_parameter(std::string_view param, std::string_view problem) {
  return refuse(http::status::bad_request, "parameter", param,
                std::string{param} + ": " + std::string{problem});
}

std::string param(const http_request& req, std::string_view key) {
  return percent_decode(query_param(req.target(), key));
}

std::optional<uint64_t> read_u64(std::string_view s) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc{} || end != s.data() + s.size())
    return std::nullopt;
  return v;
}

constexpr std::string_view topic_rule =
  "1-128 characters of A-Z a-z 0-9 and _ - . : @ / | = +";

// The comma-separated names of `key`, each once, in their first order.
std::variant<std::vector<std::string>, refusal> read_list(const http_request& req,
                                                          std::string_view key) {
  auto all = param(req, key);
  if (all.empty())
    return bad_parameter(key, "required: a comma-separated list");
  std::vector<std::string> names;
  std::string_view rest = all;
  for (;;) {
    auto comma = rest.find(',');
    std::string name{rest.substr(0, comma)};
    if (name.empty())
      return bad_parameter(key, "empty name in the list");
    if (std::find(names.begin(), names.end(), name) == names.end())
      names.push_back(std::move(name));
    if (names.size() > max_snapshot_topics)
      return bad_parameter(key, "at most " + std::to_string(max_snapshot_topics)
                                  + " per request");
    if (comma == std::string_view::npos)
      break;
    rest.remove_prefix(comma + 1);
  }
  return names;
}

std::optional<refusal> check_topic(std::string_view key, std::string_view topic) {
  if (is_valid_topic(topic) || is_system_topic(topic)) // authorize() guards system topics
    return std::nullopt;
  return bad_parameter(key, quoted(topic) + " is not a topic name (" + std::string{topic_rule}
                              + ")");
}

// The typed envelope's symbol topic: the symbol upper-cased (as its
// subscribe does) into dialects.typed-topic.
std::optional<std::string> typed_symbol_topic(std::string& symbol) {
  if (symbol.size() > 64)
    return std::nullopt;
  std::transform(symbol.begin(), symbol.end(), symbol.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return dialect_settings::expand(dialects().typed_topic, symbol);
}

std::optional<refusal> read_snapshot(const http_request& req, history_request& out) {
  auto list = read_list(req, "topics");
  if (auto* r = std::get_if<refusal>(&list))
    return std::move(*r);
  for (auto& topic : std::get<0>(list)) {
    if (auto r = check_topic("topics", topic))
      return r;
    out.queries.push_back(history_query{topic, history_query::kind::latest, {}, 1});
    out.names.push_back(std::move(topic));
  }
  return std::nullopt;
}

std::optional<refusal> read_market(const http_request& req, history_request& out) {
  auto list = read_list(req, "symbols");
  if (auto* r = std::get_if<refusal>(&list))
    return std::move(*r);
  for (auto& symbol : std::get<0>(list)) {
    auto topic = typed_symbol_topic(symbol);
    if (!topic)
      return bad_parameter("symbols", "invalid symbol " + quoted(symbol));
    // Two spellings of one symbol (aapl, AAPL) are one entry of the answer.
    if (std::find(out.names.begin(), out.names.end(), symbol) != out.names.end())
      continue;
    out.queries.push_back(history_query{std::move(*topic), history_query::kind::latest, {}, 1});
    out.names.push_back(std::move(symbol));
  }
  return std::nullopt;
}

std::optional<refusal> read_history(const http_request& req, history_request& out) {
  auto topic = param(req, "topic");
  if (topic.empty())
    return bad_parameter("topic", "required");
  if (auto r = check_topic("topic", topic))
    return r;
  history_query q{topic, history_query::kind::since, {}, default_history_limit};
  auto epoch = param(req, "epoch");
  auto since = param(req, "since");
  // A seq means nothing without the epoch it counts in, and the reverse.
  if (!epoch.empty() && since.empty())
    return bad_parameter("since", "required with epoch (the last seq the client has)");
  if (epoch.empty() && !since.empty())
    return bad_parameter("epoch", "required with since (the epoch the seq belongs to)");
  if (!since.empty()) {
    auto seq = read_u64(since);
    if (!seq)
      return bad_parameter("since", "must be a seq (a whole number), not " + quoted(since));
    q.since = stream_position{std::move(epoch), *seq};
  }
  auto limit = param(req, "limit");
  if (!limit.empty()) {
    auto n = read_u64(limit);
    if (!n || *n < 1 || *n > max_history_limit)
      return bad_parameter("limit", "must be a whole number from 1 to "
                                      + std::to_string(max_history_limit) + ", not "
                                      + quoted(limit));
    q.limit = static_cast<uint32_t>(*n);
  }
  out.queries.push_back(std::move(q));
  out.names.push_back(std::move(topic));
  return std::nullopt;
}

// The rules a WebSocket subscribe meets (actors/connection_auth.cpp): a
// refused token refuses the request, as it refuses a connection; private
// topics are open only to their owner. Counted in the same auth metrics.
std::optional<refusal> authorize(const history_request& r, const http_request& req,
                                 const authenticator* auth, std::string_view peer) {
  if (!auth)
    return std::nullopt;
  auto& m = node_metrics();
  std::optional<auth_claims> claims;
  auto token = bearer_token(req);
  if (!token.empty() && auth->judges(token)) {
    auto verdict = auth->verify(token, unix_now());
    if (!verdict) {
      m.count_auth_failure(verdict.failure);
      spdlog::info("auth.refused peer={} via=http reason={}", peer, to_string(verdict.failure));
      std::string body;
      json_writer{body}.begin_object().field("error", "unauthorized: " + verdict.message).end_object();
      return refusal{http::status::unauthorized, std::move(body)};
    }
    m.auth_accepted.fetch_add(1, std::memory_order_relaxed);
    claims = std::move(verdict.claims);
  }
  const auth_claims* who = claims ? &*claims : nullptr;
  for (auto& q : r.queries) {
    auto access = auth->access(q.topic, who);
    if (access == topic_access::open || access == topic_access::granted)
      continue;
    m.auth_denied.fetch_add(1, std::memory_order_relaxed);
    spdlog::info("auth.denied peer={} via=http topic={} user={}", peer, q.topic,
                 who ? who->user : std::string{"-"});
    return refuse(access == topic_access::unauthorized ? http::status::unauthorized
                                                       : http::status::forbidden,
                  "topic", q.topic, auth->denial_message(q.topic, access));
  }
  return std::nullopt;
}

// An event's payload as the member the native protocol gives it: JSON as
// is and text as a string in "data", other bytes as base64 in "data_b64".
void write_payload(json_writer& w, const publication& p) {
  std::string value;
  append_payload_value(value, p.payload, p.kind);
  w.key(p.kind == payload_kind::binary ? "data_b64" : "data").raw(value);
}

// {"seq":..,"ts":..,"snapshot":..,"event"?:..,"data":..}, with the epoch first when given.
void write_event(json_writer& w, const retained_event& e, std::string_view epoch = {}) {
  w.begin_object();
  if (!epoch.empty())
    w.field("epoch", epoch);
  w.field("seq", e.seq).field("ts", e.pub->ts_us).field("snapshot", e.pub->snapshot);
  if (!e.pub->event.empty())
    w.field("event", e.pub->event);
  write_payload(w, *e.pub);
  w.end_object();
}

// A topic held back by its restart backoff answers without an epoch.
void write_epoch(json_writer& w, const history_reply& r) {
  w.key("epoch");
  if (r.epoch.empty())
    w.null();
  else
    w.value(r.epoch);
}

std::string snapshot_answer(const history_request& request,
                            const std::vector<history_reply>& replies) {
  std::string out;
  json_writer w{out};
  w.begin_object().key("topics").begin_object();
  for (size_t i = 0; i < replies.size(); ++i) {
    w.key(request.names[i]);
    if (replies[i].events.empty())
      w.null();
    else
      write_event(w, replies[i].events.back(), replies[i].epoch);
  }
  w.end_object().end_object();
  return out;
}

std::string history_answer_of(const history_reply& r) {
  std::string out;
  json_writer w{out};
  w.begin_object().field("topic", r.topic);
  write_epoch(w, r);
  w.field("seq", r.seq).field("recovered", r.recovered).key("events").begin_array();
  for (auto& e : r.events)
    write_event(w, e);
  w.end_array().end_object();
  return out;
}

// The typed envelope's event frame, one "data" entry per symbol: what that
// dialect's clients read from a live event ({"type":"market_data",
// "data":<payload>,...}), keyed by symbol; null for a symbol without one.
std::string market_answer(const history_request& request,
                          const std::vector<history_reply>& replies) {
  std::string out;
  json_writer w{out};
  w.begin_object().field("type", dialects().typed_event_type).key("data").begin_object();
  for (size_t i = 0; i < replies.size(); ++i) {
    w.key(request.names[i]);
    if (replies[i].events.empty()) {
      w.null();
      continue;
    }
    auto& p = *replies[i].events.back().pub;
    std::string value;
    append_payload_value(value, p.payload, p.kind);
    w.raw(value);
  }
  w.end_object().field("timestamp", now_us() / 1000).end_object();
  return out;
}

} // namespace

std::optional<history_endpoint> history_endpoint_at(std::string_view path) {
  if (path == "/api/snapshot")
    return history_endpoint::snapshot;
  if (path == "/api/history")
    return history_endpoint::history;
  if (path == "/api/market/snapshot")
    return history_endpoint::market;
  return std::nullopt;
}

std::variant<history_request, history_refusal>
read_history_request(history_endpoint endpoint, const http_request& req,
                     const authenticator* auth, std::string_view peer) {
  history_request r;
  r.endpoint = endpoint;
  auto problem = endpoint == history_endpoint::snapshot ? read_snapshot(req, r)
                 : endpoint == history_endpoint::history ? read_history(req, r)
                                                         : read_market(req, r);
  if (!problem)
    problem = authorize(r, req, auth, peer);
  if (problem)
    return std::move(*problem);
  return r;
}

std::string history_answer(const history_request& request,
                           const std::vector<history_reply>& replies) {
  switch (request.endpoint) {
    case history_endpoint::snapshot:
      return snapshot_answer(request, replies);
    case history_endpoint::history:
      return history_answer_of(replies.front());
    case history_endpoint::market:
      return market_answer(request, replies);
  }
  return {};
}

history_refusal history_unanswered(std::string_view topic, bool timed_out,
                                   std::string_view why) {
  if (timed_out)
    return refuse(http::status::gateway_timeout, "topic", topic,
                  "topic " + std::string{topic} + " did not answer in time");
  return refuse(http::status::service_unavailable, "topic", topic,
                "topic " + std::string{topic} + " could not answer: " + std::string{why});
}

void count_history_request(history_endpoint endpoint, bool rejected) {
  auto& m = node_metrics();
  auto [requests, refused] =
    endpoint == history_endpoint::snapshot
      ? std::pair{&m.http_snapshot_requests, &m.http_snapshot_rejected}
    : endpoint == history_endpoint::history
      ? std::pair{&m.http_history_requests, &m.http_history_rejected}
      : std::pair{&m.http_market_requests, &m.http_market_rejected};
  requests->fetch_add(1, std::memory_order_relaxed);
  if (rejected)
    refused->fetch_add(1, std::memory_order_relaxed);
}

} // namespace tickgate::net
