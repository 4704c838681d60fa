#include "net/redis_link.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <spdlog/spdlog.h>

#include "actors/metrics.hpp"

namespace tickgate::net {

namespace asio = boost::asio;

/// One hiredis async context. hiredis owns the socket; Asio only watches its
/// descriptor: hiredis asks for read/write interest through the adapter hooks
/// below, and each readiness calls redisAsyncHandleRead/Write. The context is
/// freed by hiredis on disconnect (after `cleanup`), so `ac_` is reset there.
class redis_link::connection {
public:
  connection(redis_link& link, const char* role)
    : link_(link), role_(role), sd_(link.ioc_) {
  }

  ~connection() { free(); }

  const char* role() const { return role_; }
  redisAsyncContext* ctx() { return ac_; }
  bool alive() const { return ac_ != nullptr; }
  bool ready = false;

  bool connect(const redis_endpoint& ep) {
    ready = false;
    ac_ = redisAsyncConnect(ep.host.c_str(), ep.port);
    if (!ac_)
      return false;
    if (ac_->err) {
      spdlog::debug("{}.connect_failed role={} error={}", link_.settings_.log_name, role_, ac_->errstr);
      redisAsyncFree(ac_);
      ac_ = nullptr;
      return false;
    }
    ++generation_;
    ac_->data = this;
    sd_.assign(ac_->c.fd);
    ac_->ev.data = this;
    ac_->ev.addRead = [](void* p) { static_cast<connection*>(p)->want_read(true); };
    ac_->ev.delRead = [](void* p) { static_cast<connection*>(p)->want_read(false); };
    ac_->ev.addWrite = [](void* p) { static_cast<connection*>(p)->want_write(true); };
    ac_->ev.delWrite = [](void* p) { static_cast<connection*>(p)->want_write(false); };
    ac_->ev.cleanup = [](void* p) { static_cast<connection*>(p)->cleanup(); };
    redisAsyncSetConnectCallback(ac_, &connection::on_connect);
    redisAsyncSetDisconnectCallback(ac_, &connection::on_disconnect);
    return true;
  }

  /// Frees the context now (never from inside a hiredis callback).
  void free() {
    if (ac_) {
      auto ac = ac_;
      redisAsyncFree(ac); // runs cleanup(), which resets ac_
      ac_ = nullptr;
    }
  }

private:
  void want_read(bool on) {
    want_read_ = on;
    if (on && !read_waiting_)
      wait(asio::posix::stream_descriptor::wait_read);
  }

  void want_write(bool on) {
    want_write_ = on;
    if (on && !write_waiting_)
      wait(asio::posix::stream_descriptor::wait_write);
  }

  void wait(asio::posix::stream_descriptor::wait_type type) {
    bool reading = type == asio::posix::stream_descriptor::wait_read;
    (reading ? read_waiting_ : write_waiting_) = true;
    sd_.async_wait(type, [this, type, reading, gen = generation_](
                           boost::system::error_code ec) {
      (reading ? read_waiting_ : write_waiting_) = false;
      if (ec || !ac_ || gen != generation_)
        return;
      if (reading) {
        redisAsyncHandleRead(ac_);
        if (this == link_.sub_.get())
          link_.flush_inbound();
      } else {
        redisAsyncHandleWrite(ac_);
      }
      // hiredis may have freed the context inside the call.
      if (ac_ && gen == generation_) {
        if (reading && want_read_ && !read_waiting_)
          wait(type);
        if (!reading && want_write_ && !write_waiting_)
          wait(type);
      }
    });
  }

  void cleanup() {
    want_read_ = want_write_ = false;
    ++generation_; // outstanding waits become no-ops
    boost::system::error_code ignored;
    sd_.cancel(ignored);
    sd_.release(); // hiredis closes the descriptor itself
    ac_ = nullptr;
    ready = false;
  }

  static void on_connect(const redisAsyncContext* ac, int status) {
    auto* self = static_cast<connection*>(ac->data);
    if (status != REDIS_OK) {
      // hiredis frees the context after this callback.
      self->link_.on_lost(*self, ac->errstr[0] ? ac->errstr : "connect failed");
      return;
    }
    self->authenticate();
  }

  static void on_disconnect(const redisAsyncContext* ac, int status) {
    auto* self = static_cast<connection*>(ac->data);
    self->link_.on_lost(*self, status == REDIS_OK ? "closed"
                               : ac->errstr[0]    ? ac->errstr
                                                  : "connection lost");
  }

  // AUTH (and SELECT on the command connection), then ready.
  void authenticate() {
    auto& ep = link_.settings_.endpoint;
    std::vector<std::string> auth{"AUTH"};
    if (!ep.user.empty())
      auth.push_back(ep.user);
    auth.push_back(ep.password);
    bool select = ep.db != 0 && this == link_.cmd_.get();
    steps_ = (ep.password.empty() ? 0 : 1) + (select ? 1 : 0);
    if (steps_ == 0) {
      ready = true;
      link_.on_ready(*this);
      return;
    }
    if (!ep.password.empty())
      command(auth, &connection::on_setup_reply);
    if (select)
      command({"SELECT", std::to_string(ep.db)}, &connection::on_setup_reply);
  }

  void command(const std::vector<std::string>& args, redisCallbackFn* fn) {
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    for (auto& a : args) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    redisAsyncCommandArgv(ac_, fn, this, static_cast<int>(args.size()),
                          argv.data(), lens.data());
  }

  static void on_setup_reply(redisAsyncContext* ac, void* r, void* priv) {
    auto* self = static_cast<connection*>(priv);
    auto* reply = static_cast<redisReply*>(r);
    if (!reply || !self->ac_)
      return;
    if (reply->type == REDIS_REPLY_ERROR) {
      spdlog::error("{}.auth_failed role={} error={}", self->link_.settings_.log_name, self->role_,
                    std::string{reply->str, reply->len});
      redisAsyncDisconnect(ac); // retried with backoff
      return;
    }
    if (--self->steps_ == 0) {
      self->ready = true;
      self->link_.on_ready(*self);
    }
  }

  redis_link& link_;
  const char* role_;
  asio::posix::stream_descriptor sd_;
  redisAsyncContext* ac_ = nullptr;
  uint64_t generation_ = 0;
  bool want_read_ = false;
  bool want_write_ = false;
  bool read_waiting_ = false;
  bool write_waiting_ = false;
  int steps_ = 0;
};

namespace {

std::string str(const redisReply* r) {
  return r && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS)
           ? std::string{r->str, r->len}
           : std::string{};
}

} // namespace

redis_link::redis_link(redis_link_settings settings)
  : settings_(std::move(settings)),
    retry_timer_(ioc_),
    connect_timer_(ioc_),
    backoff_(settings_.reconnect_min) {
  sub_ = std::make_unique<connection>(*this, "subscriber");
  cmd_ = std::make_unique<connection>(*this, "command");
}

redis_link::~redis_link() {
  stop();
}

void redis_link::start(redis_listener* listener) {
  listener_ = listener;
  asio::post(ioc_, [this] { connect_all(); });
  thread_ = std::thread([this] {
    auto guard = asio::make_work_guard(ioc_);
    ioc_.run();
  });
}

void redis_link::stop() {
  if (!thread_.joinable())
    return;
  asio::post(ioc_, [this] {
    stopping_ = true;
    retry_timer_.cancel();
    connect_timer_.cancel();
    sub_->free();
    cmd_->free();
    ioc_.stop();
  });
  thread_.join();
}

void redis_link::connect_all() {
  if (stopping_)
    return;
  restart_pending_ = false;
  auto& ep = settings_.endpoint;
  spdlog::debug("{}.connecting to={}", settings_.log_name, ep.describe());
  if (!sub_->connect(ep) || !cmd_->connect(ep)) {
    on_lost(*sub_, "cannot connect to " + ep.describe());
    return;
  }
  connect_timer_.expires_after(settings_.connect_timeout);
  connect_timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec && !up_ && !restart_pending_)
      on_lost(*sub_, "connect timeout");
  });
}

void redis_link::on_ready(connection&) {
  if (!sub_->ready || !cmd_->ready || up_)
    return;
  connect_timer_.cancel();
  up_ = true;
  backoff_ = settings_.reconnect_min;
  if (ever_up_)
    (settings_.reconnects ? *settings_.reconnects : node_metrics().bridge_reconnects)
      .fetch_add(1, std::memory_order_relaxed);
  spdlog::info("{}.{} to={}", settings_.log_name, ever_up_ ? "reconnected" : "connected",
               settings_.endpoint.describe());
  ever_up_ = true;
  listener_->on_link(true, std::string{});
}

void redis_link::on_lost(connection& c, std::string why) {
  if (stopping_ || restart_pending_)
    return;
  restart_pending_ = true;
  if (up_) {
    spdlog::warn("{}.lost role={} reason={}", settings_.log_name, c.role(), why);
    up_ = false;
  } else {
    spdlog::debug("{}.connect_failed role={} reason={}", settings_.log_name, c.role(), why);
  }
  listener_->on_link(false, why);
  pending_publishes_ = 0;
  // Tear down outside of hiredis' callback, then retry after the backoff.
  asio::post(ioc_, [this] { restart(); });
}

void redis_link::restart() {
  if (stopping_)
    return;
  sub_->free();
  cmd_->free();
  inbound_.clear();
  std::uniform_real_distribution<double> jitter(0.8, 1.2);
  auto delay = std::chrono::milliseconds(
    static_cast<int64_t>(static_cast<double>(backoff_.count()) * jitter(rng_)));
  backoff_ = std::min(settings_.reconnect_max, backoff_ * 2);
  spdlog::debug("{}.retry in_ms={}", settings_.log_name, delay.count());
  retry_timer_.expires_after(delay);
  retry_timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec)
      connect_all();
  });
}

void redis_link::send_command(connection& c,
                              const std::vector<std::string>& args,
                              bool subscriber) {
  if (!c.alive() || !c.ready)
    return; // the feed re-sends everything when the link is back
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  argv.reserve(args.size());
  lens.reserve(args.size());
  for (auto& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  redisCallbackFn* fn = nullptr;
  if (subscriber) {
    fn = [](redisAsyncContext*, void* r, void* priv) {
      auto* self = static_cast<redis_link*>(priv);
      auto* reply = static_cast<redisReply*>(r);
      if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements < 3)
        return;
      auto kind = str(reply->element[0]);
      if (kind == "message") {
        self->inbound_.push_back(
          {str(reply->element[1]), str(reply->element[2])});
      } else if (kind == "pmessage" && reply->elements >= 4) {
        self->inbound_.push_back(
          {str(reply->element[2]), str(reply->element[3])});
      } else if (kind == "subscribe" || kind == "psubscribe") {
        self->flush_inbound(); // keep order: messages before the confirmation
        self->listener_->on_subscribed(str(reply->element[1]), kind == "psubscribe");
      }
    };
  } else {
    fn = [](redisAsyncContext*, void* r, void* priv) {
      auto* self = static_cast<redis_link*>(priv);
      if (self->pending_publishes_ > 0)
        --self->pending_publishes_;
      auto* reply = static_cast<redisReply*>(r);
      if (!reply || reply->type == REDIS_REPLY_ERROR)
        node_metrics().bridge_publish_dropped.fetch_add(1, std::memory_order_relaxed);
    };
  }
  redisAsyncCommandArgv(c.ctx(), fn, this, static_cast<int>(args.size()),
                        argv.data(), lens.data());
}

void redis_link::flush_inbound() {
  if (inbound_.empty())
    return;
  listener_->on_messages(inbound_);
  inbound_ = redis_batch{};
}

void redis_link::subscribe(std::vector<std::string> channels) {
  asio::post(ioc_, [this, channels = std::move(channels)]() mutable {
    channels.insert(channels.begin(), "SUBSCRIBE");
    send_command(*sub_, channels, true);
  });
}

void redis_link::unsubscribe(std::vector<std::string> channels) {
  asio::post(ioc_, [this, channels = std::move(channels)]() mutable {
    channels.insert(channels.begin(), "UNSUBSCRIBE");
    send_command(*sub_, channels, true);
  });
}

void redis_link::psubscribe(std::vector<std::string> patterns) {
  asio::post(ioc_, [this, patterns = std::move(patterns)]() mutable {
    patterns.insert(patterns.begin(), "PSUBSCRIBE");
    send_command(*sub_, patterns, true);
  });
}

void redis_link::publish(std::vector<std::pair<std::string, std::string>> messages) {
  asio::post(ioc_, [this, messages = std::move(messages)] {
    std::vector<std::vector<std::string>> commands;
    commands.reserve(messages.size());
    for (auto& [channel, payload] : messages)
      commands.push_back({"PUBLISH", channel, payload});
    send_publishes(commands);
  });
}

void redis_link::publish_commands(std::vector<std::vector<std::string>> commands) {
  asio::post(ioc_, [this, commands = std::move(commands)] { send_publishes(commands); });
}

void redis_link::send_publishes(const std::vector<std::vector<std::string>>& commands) {
  size_t dropped = 0;
  for (auto& args : commands) {
    if (!up_ || pending_publishes_ >= settings_.max_pending_publishes) {
      ++dropped;
      continue;
    }
    ++pending_publishes_;
    send_command(*cmd_, args, false);
  }
  if (dropped > 0) {
    node_metrics().bridge_publish_dropped.fetch_add(dropped, std::memory_order_relaxed);
    spdlog::warn("{}.publish_dropped count={} reason={}", settings_.log_name, dropped,
                 up_ ? "backlog full" : "redis down");
  }
}

namespace {

redis_value value_of(const redisReply* r) {
  redis_value v;
  switch (r->type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
      v.what = redis_value::type::string;
      v.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_INTEGER:
      v.what = redis_value::type::integer;
      v.integer = r->integer;
      break;
    case REDIS_REPLY_ARRAY:
      v.what = redis_value::type::array;
      v.elements.reserve(r->elements);
      for (size_t i = 0; i < r->elements; ++i)
        v.elements.push_back(value_of(r->element[i]));
      break;
    default: break; // nil
  }
  return v;
}

} // namespace

void redis_link::query(std::vector<std::string> args, query_done done) {
  asio::post(ioc_, [this, args = std::move(args), done = std::move(done)]() mutable {
    if (!up_ || !cmd_->alive() || !cmd_->ready) {
      done(std::nullopt, std::string{}); // the link's down report is out or on its way
      return;
    }
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    for (auto& a : args) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    // hiredis calls back exactly once: with the reply, or with none when
    // the context is freed first.
    auto* pending = new query_done(std::move(done));
    auto fn = [](redisAsyncContext*, void* r, void* priv) {
      std::unique_ptr<query_done> cb{static_cast<query_done*>(priv)};
      auto* reply = static_cast<redisReply*>(r);
      if (!reply)
        (*cb)(std::nullopt, std::string{}); // freed: the link is going down
      else if (reply->type == REDIS_REPLY_ERROR)
        (*cb)(std::nullopt, std::string{reply->str, reply->len});
      else
        (*cb)(value_of(reply), std::string{});
    };
    if (redisAsyncCommandArgv(cmd_->ctx(), fn, pending, static_cast<int>(args.size()),
                              argv.data(), lens.data())
        != REDIS_OK) {
      std::unique_ptr<query_done> cb{pending};
      (*cb)(std::nullopt, std::string{});
    }
  });
}

} // namespace tickgate::net
