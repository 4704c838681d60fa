#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "actors/auth.hpp"
#include "actors/vocabulary.hpp"
#include "net/http_routes.hpp"

namespace tickgate::net {

// What topics retain, over plain HTTP, for clients that poll instead of
// holding a WebSocket:
//   GET /api/snapshot?topics=a,b                  the latest event of each topic
//   GET /api/history?topic=t&epoch=E&since=S&limit=N   events after a position
//   GET /api/market/snapshot?symbols=AAPL,MSFT    the typed envelope's shape
// Reading and checking a request and writing its answer happen here; the
// session asks the router (one history_query per topic) in between.

enum class history_endpoint : uint8_t { snapshot, history, market };

/// The endpoint served at `path`, or nullopt.
std::optional<history_endpoint> history_endpoint_at(std::string_view path);

/// Topics (or symbols) one snapshot request may name.
constexpr size_t max_snapshot_topics = 100;
/// Events one history request may ask for, and how many it gets unasked.
constexpr uint32_t max_history_limit = 1000;
constexpr uint32_t default_history_limit = 100;

/// A request that passed every check: one query per name, in the order the
/// answer lists them.
struct history_request {
  history_endpoint endpoint = history_endpoint::snapshot;
  // What the answer calls each query's result: the topic, or for the market
  // snapshot the symbol (upper-cased, as the typed envelope does).
  std::vector<std::string> names;
  std::vector<history_query> queries;
};

/// Why a request is not served: the status and the JSON body.
struct history_refusal {
  boost::beast::http::status status;
  std::string body;
};

/// Reads the query string of `req` for `endpoint` (values %-decoded) and
/// checks that the client may read every topic it names, by the rules
/// WebSocket subscriptions follow (`auth` null: no rules). A refusal names
/// the parameter (400) or the topic (401, 403) it is about.
std::variant<history_request, history_refusal>
read_history_request(history_endpoint endpoint, const http_request& req,
                     const authenticator* auth, std::string_view peer);

/// The answer to `request` from the router's replies, one per query in the
/// same order.
std::string history_answer(const history_request& request,
                           const std::vector<history_reply>& replies);

/// The refusal for a query that got no reply: 504 after the timeout, 503 if
/// the topic failed meanwhile.
history_refusal history_unanswered(std::string_view topic, bool timed_out,
                                   std::string_view why);

/// Counts a request to `endpoint` (http.*_requests) and, if it was refused
/// with a 4xx or 5xx, the refusal (http.*_rejected).
void count_history_request(history_endpoint endpoint, bool rejected);

} // namespace tickgate::net
