#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <sys/types.h>

namespace tickgate::test {

/// A real redis-server on a free loopback port, started and stopped by PID.
class redis_process {
public:
  explicit redis_process(std::vector<std::string> extra_args = {});

  /// On a port chosen by the caller (e.g. one a node already points at).
  redis_process(uint16_t port, std::vector<std::string> extra_args);
  ~redis_process();

  redis_process(const redis_process&) = delete;
  redis_process& operator=(const redis_process&) = delete;

  uint16_t port() const { return port_; }
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_); }

  /// SIGKILLs the server (as a crash would) and waits for it to be gone.
  void kill();

  /// Starts it again on the same port.
  void start();

private:
  uint16_t port_ = 0;
  pid_t pid_ = -1;
  std::vector<std::string> args_;
};

/// A free TCP port on 127.0.0.1 (bound, then released).
uint16_t free_port();

/// Runs one command on a fresh blocking connection. Integer replies come back
/// as their decimal text, arrays as their elements, nil as "".
std::vector<std::string> redis_command(uint16_t port,
                                       const std::vector<std::string>& args,
                                       const std::string& password = "");

} // namespace tickgate::test
