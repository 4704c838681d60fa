#include "support/redis_process.hpp"

#include <csignal>
#include <stdexcept>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/ip/tcp.hpp>
#include <hiredis/hiredis.h>

#include "support/node_process.hpp"

namespace tickgate::test {

uint16_t free_port() {
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor a{
    ioc, {boost::asio::ip::make_address("127.0.0.1"), 0}};
  return a.local_endpoint().port();
}

redis_process::redis_process(std::vector<std::string> extra_args)
  : port_(free_port()), args_(std::move(extra_args)) {
  start();
}

redis_process::redis_process(uint16_t port, std::vector<std::string> extra_args)
  : port_(port), args_(std::move(extra_args)) {
  start();
}

redis_process::~redis_process() {
  if (pid_ > 0)
    terminate_child(pid_);
}

void redis_process::start() {
  std::vector<std::string> args{"redis-server", "--port", std::to_string(port_),
                                "--bind", "127.0.0.1", "--save", "",
                                "--appendonly", "no", "--loglevel", "warning"};
  args.insert(args.end(), args_.begin(), args_.end());
  pid_ = fork();
  if (pid_ < 0)
    throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    std::vector<char*> argv;
    for (auto& a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    execvp("redis-server", argv.data());
    _exit(127);
  }
  bool up = eventually([&] {
    redisContext* c = redisConnect("127.0.0.1", port_);
    bool ok = c && !c->err;
    if (c)
      redisFree(c);
    return ok;
  });
  if (!up)
    throw std::runtime_error("redis-server did not start on port "
                             + std::to_string(port_));
}

void redis_process::kill() {
  if (pid_ <= 0)
    return;
  ::kill(pid_, SIGKILL);
  int status;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

std::vector<std::string> redis_command(uint16_t port,
                                       const std::vector<std::string>& args,
                                       const std::string& password) {
  redisContext* c = redisConnect("127.0.0.1", port);
  if (!c || c->err) {
    if (c)
      redisFree(c);
    throw std::runtime_error("cannot connect to redis");
  }
  auto run = [&](const std::vector<std::string>& cmd) {
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    for (auto& a : cmd) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    return static_cast<redisReply*>(redisCommandArgv(
      c, static_cast<int>(cmd.size()), argv.data(), lens.data()));
  };
  if (!password.empty())
    freeReplyObject(run({"AUTH", password}));
  auto* r = run(args);
  std::vector<std::string> out;
  auto text = [](redisReply* e) -> std::string {
    if (e->type == REDIS_REPLY_INTEGER)
      return std::to_string(e->integer);
    if (e->type == REDIS_REPLY_NIL)
      return "";
    return std::string{e->str, e->len};
  };
  if (r) {
    if (r->type == REDIS_REPLY_ARRAY)
      for (size_t i = 0; i < r->elements; ++i)
        out.push_back(text(r->element[i]));
    else
      out.push_back(text(r));
    freeReplyObject(r);
  }
  redisFree(c);
  return out;
}

} // namespace tickgate::test
