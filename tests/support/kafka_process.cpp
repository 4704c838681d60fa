#include "support/kafka_process.hpp"

#include <csignal>
#include <fstream>
#include <stdexcept>
#include <sys/wait.h>
#include <unistd.h>

#include "support/node_process.hpp"

namespace tickgate::test {

std::string kafka_mock_binary() {
  return TICKGATE_KAFKA_MOCK_PATH;
}

kafka_process::kafka_process(int brokers, const std::string& topics) {
  // Everything the child needs is made before fork (no allocation after it).
  auto bin = kafka_mock_binary();
  auto count = std::to_string(brokers);
  int in[2], out[2];
  if (pipe(in) != 0 || pipe(out) != 0)
    throw std::runtime_error("pipe failed");
  pid_ = fork();
  if (pid_ < 0)
    throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    close(in[1]);
    close(out[0]);
    execl(bin.c_str(), bin.c_str(), "--brokers", count.c_str(), "--topics", topics.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  to_ = fdopen(in[1], "w");
  from_ = fdopen(out[0], "r");
  char line[1024];
  if (!fgets(line, sizeof line, from_))
    throw std::runtime_error("tickgate-kafka-mock printed no bootstrap address");
  bootstrap_ = line;
  while (!bootstrap_.empty() && (bootstrap_.back() == '\n' || bootstrap_.back() == '\r'))
    bootstrap_.pop_back();
}

kafka_process::~kafka_process() {
  if (to_)
    fclose(to_);
  if (from_)
    fclose(from_);
  if (pid_ > 0)
    terminate_child(pid_);
}

std::string kafka_process::control(const std::string& line) {
  fprintf(to_, "%s\n", line.c_str());
  fflush(to_);
  char reply[1024];
  if (!fgets(reply, sizeof reply, from_))
    return "<no answer>";
  std::string r = reply;
  while (!r.empty() && r.back() == '\n')
    r.pop_back();
  return r;
}

bool kafka_process::produce(const std::string& topic, const std::vector<std::string>& records,
                            int partition) {
  char tmpl[] = "/tmp/tickgate-kafka-records-XXXXXX";
  int fd = mkstemp(tmpl);
  if (fd < 0)
    return false;
  close(fd);
  {
    std::ofstream f{tmpl};
    for (auto& r : records)
      f << r << '\n';
  }
  auto cmd = "kcat -P -b '" + bootstrap_ + "' -t '" + topic + "'"
             + (partition >= 0 ? " -p " + std::to_string(partition) : std::string{})
             + " -l " + tmpl;
  auto r = run_command(cmd);
  unlink(tmpl);
  return r.code == 0;
}

} // namespace tickgate::test
