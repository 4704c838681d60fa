#include "support/node_process.hpp"

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <gtest/gtest.h>

namespace tickgate::test {

command_result run_command(const std::string& command) {
  command_result r;
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  if (!p)
    return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0)
    r.out.append(buf, n);
  int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string tickgate_binary() {
  if (auto p = std::getenv("TICKGATE_BINARY"))
    return p;
  return TICKGATE_BINARY_PATH;
}

node_process::node_process(std::vector<std::string> extra_args) {
  char tmpl[] = "/tmp/tickgate-test-XXXXXX";
  if (!mkdtemp(tmpl))
    throw std::runtime_error("mkdtemp failed");
  dir_ = tmpl;
  auto ready = dir_ + "/ready.json";
  std::vector<std::string> args{tickgate_binary(), "--ws.host=127.0.0.1",
                                "--ws.port=0", "--admin.port=0",
                                "--ready-file=" + ready, "--log-level=debug"};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  pid_ = fork();
  if (pid_ < 0)
    throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    auto log = dir_ + "/node.log";
    int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 2);
    int null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    unsetenv("WS_PORT");
    unsetenv("PORT");
    unsetenv("WS_HOST");
    unsetenv("ADMIN_PORT");
    unsetenv("ADMIN_SECRET");
    unsetenv("REDIS_URL");
    unsetenv("REDIS_HOST");
    unsetenv("REDIS_PORT");
    std::vector<char*> argv;
    for (auto& a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  bool up = eventually(
    [&] {
      std::ifstream in{ready};
      std::string line;
      if (!std::getline(in, line))
        return false;
      auto pos = line.find("\"port\":");
      if (pos == std::string::npos)
        return false;
      port_ = static_cast<uint16_t>(std::atoi(line.c_str() + pos + 7));
      if (auto a = line.find("\"admin_port\":"); a != std::string::npos)
        admin_port_ = static_cast<uint16_t>(std::atoi(line.c_str() + a + 13));
      if (auto c = line.find("\"cluster_port\":"); c != std::string::npos)
        cluster_port_ = static_cast<uint16_t>(std::atoi(line.c_str() + c + 15));
      return port_ != 0;
    },
    std::chrono::milliseconds(10000));
  if (!up) {
    stop(SIGKILL, std::chrono::milliseconds(2000));
    throw std::runtime_error("tickgate did not start: " + log());
  }
}

node_process::~node_process() {
  if (pid_ > 0 && stop(SIGTERM, std::chrono::milliseconds(8000)) == -1)
    stop(SIGKILL, std::chrono::milliseconds(2000));
  // In a sanitized build (tools/test --sanitize) the node writes any ASan,
  // LSan or UBSan report to its log; most tests never look at its exit code.
  auto text = log();
  for (auto* mark : {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer", ": runtime error: "})
    if (text.find(mark) != std::string::npos) {
      ADD_FAILURE() << "tickgate reported a sanitizer finding:\n" << text;
      break;
    }
  std::string cmd = "rm -rf '" + dir_ + "'";
  if (std::system(cmd.c_str()) != 0) {
    // leftover temp dir: harmless
  }
}

int node_process::stop(int sig, std::chrono::milliseconds timeout) {
  if (pid_ <= 0)
    return -1;
  kill(pid_, sig);
  int status = 0;
  bool exited = eventually(
    [&] { return waitpid(pid_, &status, WNOHANG) == pid_; }, timeout);
  if (!exited)
    return -1;
  pid_ = -1;
  return status;
}

std::string node_process::log() const {
  std::ifstream in{dir_ + "/node.log"};
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void terminate_child(pid_t pid, std::chrono::milliseconds grace) {
  ::kill(pid, SIGTERM);
  int status;
  if (!eventually([&] { return waitpid(pid, &status, WNOHANG) == pid; }, grace)) {
    ::kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
  }
}

} // namespace tickgate::test
