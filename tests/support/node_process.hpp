#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <sys/types.h>

namespace tickgate::test {

/// Stops a child process the test started: SIGTERM, then SIGKILL if it is
/// still there after `grace`; reaps it either way.
void terminate_child(pid_t pid, std::chrono::milliseconds grace = std::chrono::milliseconds(3000));

/// Runs the real tickgate binary on a free port for one test. The node
/// reports its port through --ready-file; the destructor stops it with
/// SIGTERM (SIGKILL if it hangs).
class node_process {
public:
  explicit node_process(std::vector<std::string> extra_args = {});
  ~node_process();

  node_process(const node_process&) = delete;
  node_process& operator=(const node_process&) = delete;

  uint16_t port() const { return port_; }
  uint16_t admin_port() const { return admin_port_; }
  /// The cluster listener's port (--cluster.pick-port or --cluster.port); 0: none.
  uint16_t cluster_port() const { return cluster_port_; }
  pid_t pid() const { return pid_; }

  /// Sends `sig` and waits up to `timeout` for the exit; returns the exit
  /// status (as from waitpid) or -1 if it did not exit in time.
  int stop(int sig, std::chrono::milliseconds timeout);

  /// The node's stderr so far (its log).
  std::string log() const;

private:
  pid_t pid_ = -1;
  uint16_t port_ = 0;
  uint16_t admin_port_ = 0;
  uint16_t cluster_port_ = 0;
  std::string dir_;
};

/// What a command printed (stdout and stderr) and its exit code.
struct command_result {
  int code = -1;
  std::string out;
};

/// Runs `command` through the shell, capturing its output.
command_result run_command(const std::string& command);

/// Path of the tickgate binary under test.
std::string tickgate_binary();

/// Polls `cond` every 10 ms until it holds or `timeout` passes.
template <class F>
bool eventually(F cond, std::chrono::milliseconds timeout
                        = std::chrono::milliseconds(5000)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond())
      return true;
    struct timespec ts{0, 10'000'000};
    nanosleep(&ts, nullptr);
  }
  return cond();
}

} // namespace tickgate::test
