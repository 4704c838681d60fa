#include "net/http_session.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <spdlog/spdlog.h>

#include "net/engineio_polling.hpp"
#include "net/maintenance_gate.hpp"
#include "net/socket_io.hpp"
#include "net/ws_session.hpp"
#include "net/ws_upgrade.hpp"

#include <boost/asio/post.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/sec.hpp>

#include "actors/auth.hpp"
#include "actors/metrics.hpp"
#include "actors/vocabulary.hpp"
#include "proto/json_text.hpp"
#include "proto/json_writer.hpp"

namespace tickgate::net {

namespace beast = boost::beast;
namespace http = beast::http;

namespace {

// How long /api/snapshot and /api/history wait for a topic's reply (a
// topic's mailbox is short; this is far beyond any healthy wait).
constexpr std::chrono::seconds history_timeout{5};

} // namespace

http_session::http_session(loop_socket&& socket, const boost::asio::ip::tcp::endpoint& peer,
                           net_context& ctx, io_loop& loop)
  : sock_(std::move(socket)), peer_(peer), ctx_(ctx), loop_(loop) {
}

void http_session::run() {
  boost::asio::dispatch(sock_.get_executor(),
                        [self = shared_from_this()] { self->start_request(); });
}

void http_session::start_request() {
  parser_.emplace();
  parser_->body_limit(ctx_.edge.max_http_body_bytes);
  parser_->header_limit(max_header_bytes);
  parser_->eager(true); // the body in the same pass as the header
  deadline_ = std::chrono::steady_clock::now() + ctx_.edge.handshake_timeout;
  if (!pending_.empty() && feed(nullptr, 0)) // a pipelined request
    return;
  read_more();
}

// Reads until the request is complete, the client would block, or the
// connection ends; at most a few reads per wakeup, so one fast client cannot
// hold the loop (or its own deadline) off.
void http_session::read_more() {
  static constexpr size_t scratch_size = 16 * 1024;
  thread_local std::unique_ptr<char[]> scratch{new char[scratch_size]};
  for (int round = 0; round < 4; ++round) {
    beast::error_code ec;
    auto n = receive_now(sock_, scratch.get(), scratch_size, ec);
    if (would_block(ec))
      break;
    if (ec == boost::asio::error::eof) {
      on_request(parser_->got_some() || !pending_.empty() ? http::error::partial_message
                                                          : http::error::end_of_stream);
      return;
    }
    if (ec) {
      on_request(ec);
      return;
    }
    if (feed(scratch.get(), n))
      return;
  }
  wait_readable(); // nothing to read, or still readable (then it completes at once)
}

// Gives the parser what it has not taken yet plus `size` new bytes, and
// keeps what it still leaves (Beast parses a header only once it is whole).
bool http_session::feed(const char* data, size_t size) {
  std::string_view in{data, size};
  bool from_pending = !pending_.empty();
  if (from_pending) {
    pending_.append(data, size);
    in = pending_;
  }
  beast::error_code ec;
  size_t used = 0;
  while (used < in.size() && !parser_->is_done()) {
    auto n = parser_->put(boost::asio::buffer(in.data() + used, in.size() - used), ec);
    used += n;
    if (ec == http::error::need_more) {
      ec = {};
      break;
    }
    if (ec || n == 0)
      break;
  }
  if (from_pending)
    pending_.erase(0, used);
  else
    pending_.assign(in.substr(used));
  // The header is bounded by header_limit, but Beast 1.74 does not bound a
  // chunk-size line or trailer it is still waiting for the end of.
  if (!ec && pending_.size() > max_pending_bytes)
    ec = http::error::header_limit;
  if (ec) {
    on_request(ec);
    return true;
  }
  if (parser_->is_done()) {
    on_request({});
    return true;
  }
  return false;
}

void http_session::wait_readable() {
  arm_deadline();
  waiting_ = true;
  sock_.async_wait(loop_socket::wait_read, [self = shared_from_this()](beast::error_code ec) {
    self->waiting_ = false;
    if (ec) { // closed at the deadline, or the socket failed
      self->end();
      return;
    }
    self->read_more();
  });
}

void http_session::arm_deadline() {
  if (timer_armed_ && timer_->expiry() == deadline_)
    return;
  if (!timer_)
    timer_.emplace(sock_.get_executor());
  timer_->expires_at(deadline_); // cancels a wait for an earlier deadline
  timer_armed_ = true;
  timer_->async_wait([self = shared_from_this()](beast::error_code ec) {
    self->on_deadline(ec);
  });
}

void http_session::on_deadline(beast::error_code ec) {
  if (ec == boost::asio::error::operation_aborted)
    return; // re-armed or cancelled; a newer wait is in charge
  timer_armed_ = false;
  if (!waiting_ || !sock_.is_open())
    return; // busy with the request (an admin or history query): the next wait re-arms
  if (std::chrono::steady_clock::now() < deadline_) {
    arm_deadline();
    return;
  }
  spdlog::debug("http.timeout peer={} after={}s", peer_address(),
                ctx_.edge.handshake_timeout.count());
  beast::error_code ignored;
  sock_.close(ignored); // the pending wait or write ends with operation_aborted
}

void http_session::end() {
  if (timer_)
    timer_->cancel();
  beast::error_code ignored;
  sock_.shutdown(loop_socket::shutdown_send, ignored);
}

void http_session::on_request(beast::error_code ec) {
  if (ec == http::error::end_of_stream || ec == boost::asio::error::eof) {
    end();
    return;
  }
  if (ec == http::error::body_limit) {
    http_request head;
    head.version(11);
    auto res = error_response(head, http::status::payload_too_large,
                              "body larger than "
                                + std::to_string(ctx_.edge.max_http_body_bytes)
                                + " bytes");
    res.keep_alive(false);
    send(std::move(res));
    return;
  }
  if (ec) {
    fail(ec, "http.read_failed");
    if (ec.category() == http::make_error_code(http::error::bad_target).category()) {
      http_request head;
      head.version(11);
      auto res = error_response(head, http::status::bad_request,
                                "malformed HTTP request");
      res.keep_alive(false);
      send(std::move(res));
    } else {
      end();
    }
    return;
  }
  auto req = parser_->release();
  if (beast::websocket::is_upgrade(req)) {
    auto* dialect = ctx_.edge.dialect_at(target_path(req.target()));
    if (!dialect) {
      send(error_response(req, http::status::not_found,
                          "no WebSocket endpoint at this path"));
      return;
    }
    std::shared_ptr<engineio_session> polling; // the long-polling session this upgrades
    if (*dialect == "socketio") {
      if (auto problem = socketio_handshake_problem(req.target())) {
        send(socketio_error_response(req, *problem));
        return;
      }
      if (auto sid = query_param(req.target(), "sid"); !sid.empty()) {
        polling = ctx_.polling ? ctx_.polling->find(sid) : nullptr;
        if (!polling) {
          node_metrics().polling_bad_requests.fetch_add(1, std::memory_order_relaxed);
          send(engineio_error_response(req, engineio::error::unknown_sid));
          return;
        }
      }
    }
    if (auto problem = websocket_upgrade_problem(req)) {
      node_metrics().refused_malformed.fetch_add(1, std::memory_order_relaxed);
      spdlog::debug("http.handshake_refused peer={} status={} reason={}", peer_address(),
                    static_cast<int>(problem->status), problem->message);
      send(upgrade_refusal_response(req, *problem));
      return;
    }
    // Maintenance refuses new clients; a polling session that upgrades is
    // an open connection and keeps going.
    if (auto refusal = polling ? std::nullopt : maintenance_refusal(ctx_, req)) {
      spdlog::debug("http.handshake_refused peer={} status=503 reason=maintenance", peer_address());
      send(std::move(*refusal));
      return;
    }
    std::shared_ptr<void> ticket;
    if (ctx_.gate && !polling) { // a polling session was admitted at its handshake
      auto d = ctx_.gate->admit(peer_address(), req[http::field::origin]);
      if (d.reason != refusal::none) {
        refuse_upgrade(req, d);
        return;
      }
      ticket = std::move(d.ticket);
    }
    if (timer_)
      timer_->cancel();
    auto session = std::make_shared<ws_session>(std::move(sock_), ctx_, loop_, *dialect);
    session->hold(std::move(ticket)); // the admission slot lasts as long as the connection
    if (polling)
      session->upgrade_from(std::move(polling));
    session->run(std::move(req), peer_, std::move(pending_));
    return;
  }
  if (auto* d = ctx_.edge.dialect_at(target_path(req.target()));
      d && *d == "socketio" && ctx_.polling) { // Engine.IO long-polling
    ctx_.polling->serve(req, peer_address(),
                        polling_reply{sock_.get_executor(),
                                      [self = shared_from_this()](http_response res) {
                                        self->send(std::move(res));
                                      },
                                      req.version(), req.keep_alive(),
                                      std::string{req[http::field::origin]}});
    return;
  }
  if (target_path(req.target()).substr(0, 7) == "/admin/") {
    admin(req, std::string{target_path(req.target()).substr(7)});
    return;
  }
  if (target_path(req.target()) == "/api/cluster") { // the members, as /admin/nodes
    admin(req, "nodes");
    return;
  }
  if (auto endpoint = history_endpoint_at(target_path(req.target()))) {
    retained(req, *endpoint);
    return;
  }
  send(handle_http(ctx_, req));
}

std::string http_session::peer_address() {
  return peer_.address().to_string();
}

// A refused handshake closes the connection: a client over a cap should not
// keep a socket either. Retry-After tells well-behaved clients when to return.
void http_session::refuse_upgrade(const http_request& req, const admission::decision& d) {
  spdlog::debug("http.handshake_refused peer={} status={} reason={}", peer_address(),
                d.status, d.message);
  auto res = error_response(req, static_cast<http::status>(d.status), d.message);
  if (d.status == 429 || d.status == 503)
    res.set(http::field::retry_after, "1");
  res.keep_alive(false);
  send(std::move(res));
}

// The same commands tickgatectl sends, for non-C++ tooling:
//   GET  /admin/info | stats | actors?kind=&sort=&limit= | topics | connections | show?id=
//        | nodes (also GET /api/cluster)
//   POST /admin/kick?id= | restart?topic= | publish?topic= (body: JSON) | broadcast (body: JSON)
//        | maintenance?state=on|off&message=&retry_after=
// Credentials: the admin secret in the X-Admin-Secret header, or
// `Authorization: Bearer` with the admin secret or a JWT with the admin role.
void http_session::admin(const http_request& req, const std::string& command) {
  if (!ctx_.admin_http) {
    send(error_response(req, http::status::forbidden,
                        "/admin/ over HTTP needs admin.secret (ADMIN_SECRET) or a JWT key on the "
                        "node; tickgatectl on the loopback admin port works without one"));
    return;
  }
  auto target = req.target();
  auto q = [&](const char* key) { return percent_decode(query_param(target, key)); };
  std::vector<std::string> args;
  bool post = req.method() == http::verb::post;
  bool get = req.method() == http::verb::get;
  if ((command == "info" || command == "stats" || command == "topics" || command == "connections"
       || command == "nodes")
      && get) {
  } else if (command == "actors" && get) {
    args = {q("kind"), q("sort"), q("limit")};
  } else if (command == "show" && get) {
    args = {q("id")};
  } else if (command == "kick" && post) {
    args = {q("id")};
  } else if (command == "restart" && post) {
    args = {q("topic")};
  } else if (command == "publish" && post) {
    args = {q("topic"), req.body()};
  } else if (command == "broadcast" && post) {
    args = {req.body()};
  } else if (command == "maintenance" && post) {
    args = {q("state"), q("message"), q("retry_after")};
  } else {
    send(error_response(req, http::status::not_found,
                        "no such admin route (GET info, actors, topics, connections, show, nodes; "
                        "POST kick, restart, publish, broadcast, maintenance)"));
    return;
  }
  if (auto denied = admin_denial(req)) {
    spdlog::warn("admin.denied via=http peer={} reason={}", peer_address(), *denied);
    std::string body;
    json_writer{body}
      .begin_object()
      .field("ok", false)
      .field("code", "denied")
      .field("error", "access denied: " + *denied)
      .end_object();
    send(json_response(req, http::status::forbidden, std::move(body)));
    return;
  }
  auto secret = ctx_.admin_secret; // the caller proved it may; the inspector checks again
  auto self = shared_from_this();
  auto version = req.version();
  auto keep_alive = req.keep_alive();
  // The request travels as spawn arguments, not captures: CAF 0.17 binds a
  // reference to a null argument tuple when a function actor is spawned with
  // none (undefined behaviour that the sanitized build stops on).
  ctx_.system.spawn([self, version, keep_alive, inspector = ctx_.inspector](
                      caf::event_based_actor* a, const std::string& secret,
                      const std::string& command, const std::vector<std::string>& args) {
    a->request(inspector, std::chrono::seconds(10), admin_atom_v, secret, command, args)
      .then([=](const std::string& json) { self->answer_admin(version, keep_alive, json); },
            [=](caf::error& err) {
              std::string json = R"({"ok":false,"code":"internal","error":)";
              json_text::append_string(json, caf::to_string(err));
              json += '}';
              self->answer_admin(version, keep_alive, json);
            });
  }, secret, command, args);
}

std::optional<std::string> http_session::admin_denial(const http_request& req) {
  auto header = std::string_view{req["X-Admin-Secret"]};
  if (secret_matches(ctx_.admin_secret, header))
    return std::nullopt;
  auto token = bearer_token(req);
  if (token.empty())
    return header.empty() ? "no credentials (X-Admin-Secret, or Authorization: Bearer with the "
                            "admin secret or an admin JWT)"
                          : "wrong secret";
  auto* rules = ctx_.routing.auth.get();
  if (!rules || !rules->judges(token))
    return std::string{"wrong secret or token"};
  auto verdict = rules->verify(token, unix_now());
  if (!verdict) {
    node_metrics().count_auth_failure(verdict.failure);
    return "token refused: " + verdict.message;
  }
  if (!rules->is_admin(&*verdict.claims)) {
    node_metrics().auth_denied.fetch_add(1, std::memory_order_relaxed);
    return "token has no role " + rules->settings().admin_role;
  }
  return std::nullopt;
}

void http_session::answer_admin(unsigned version, bool keep_alive, const std::string& json) {
  auto status = json.find(R"("ok":true)") == 1 ? http::status::ok
                : json.find(R"("code":"denied")") != std::string::npos    ? http::status::forbidden
                : json.find(R"("code":"not_found")") != std::string::npos ? http::status::not_found
                : json.find(R"("code":"bad_request")") != std::string::npos
                  ? http::status::bad_request
                  : http::status::internal_server_error;
  answer(version, keep_alive, status, json);
}

// Each topic's query goes to the router on its own, so they are answered
// concurrently (the router spawns a topic nobody follows: a poller's topic
// then follows its feed and retains events). The answer is written once
// every reply is in, or at the first query that fails or times out.
void http_session::retained(const http_request& req, history_endpoint endpoint) {
  if (req.method() != http::verb::get) {
    count_history_request(endpoint, true);
    send(error_response(req, http::status::method_not_allowed, "use GET"));
    return;
  }
  auto checked = read_history_request(endpoint, req, ctx_.routing.auth.get(), peer_address());
  if (auto* refused = std::get_if<history_refusal>(&checked)) {
    count_history_request(endpoint, true);
    send(json_response(req, refused->status, std::move(refused->body)));
    return;
  }
  auto request = std::make_shared<const history_request>(
    std::get<history_request>(std::move(checked)));
  auto self = shared_from_this();
  auto version = req.version();
  auto keep_alive = req.keep_alive();
  // As in admin(): the request travels as a spawn argument.
  ctx_.system.spawn([self, version, keep_alive, router = ctx_.router](
                      caf::event_based_actor* a,
                      const std::shared_ptr<const history_request>& r) {
    struct gathering {
      std::vector<history_reply> replies;
      size_t left = 0;
      bool done = false;
    };
    auto g = std::make_shared<gathering>();
    g->replies.resize(r->queries.size());
    g->left = r->queries.size();
    auto finish = [=](http::status status, std::string json) {
      g->done = true;
      count_history_request(r->endpoint, status != http::status::ok);
      self->answer(version, keep_alive, status, std::move(json));
      a->quit();
    };
    for (size_t i = 0; i < r->queries.size(); ++i)
      a->request(router, history_timeout, history_atom_v, r->queries[i])
        .then(
          [=](history_reply& reply) {
            if (g->done)
              return;
            g->replies[i] = std::move(reply);
            if (--g->left == 0)
              finish(http::status::ok, history_answer(*r, g->replies));
          },
          [=](caf::error& err) {
            if (g->done)
              return;
            auto no = history_unanswered(r->queries[i].topic, err == caf::sec::request_timeout,
                                         caf::to_string(err));
            finish(no.status, std::move(no.body));
          });
  }, std::move(request));
}

void http_session::answer(unsigned version, bool keep_alive, http::status status,
                          std::string json) {
  boost::asio::post(sock_.get_executor(), [self = shared_from_this(), version, keep_alive,
                                           status, json = std::move(json)]() mutable {
    http_request head;
    head.version(version);
    head.keep_alive(keep_alive);
    self->send(json_response(head, status, std::move(json)));
  });
}

void http_session::send(http_response res) {
  res_ = std::make_shared<http_response>(std::move(res));
  bool keep_alive = res_->keep_alive();
  deadline_ = std::chrono::steady_clock::now() + ctx_.edge.handshake_timeout;
  arm_deadline();
  waiting_ = true;
  http::async_write(sock_, *res_,
                    [self = shared_from_this(), keep_alive](
                      beast::error_code ec, size_t n) {
                      self->waiting_ = false;
                      self->on_write(keep_alive, ec, n);
                    });
}

void http_session::on_write(bool keep_alive, beast::error_code ec, size_t) {
  res_.reset();
  if (ec || !keep_alive) {
    end();
    return;
  }
  start_request();
}

} // namespace tickgate::net
