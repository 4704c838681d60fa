#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include <sys/types.h>

namespace tickgate::test {

/// tickgate-kafka-mock (librdkafka's mock cluster) for one test: started
/// with --brokers and --topics, stopped by PID in the destructor.
class kafka_process {
public:
  /// `topics`: "name:partitions,...".
  kafka_process(int brokers, const std::string& topics);
  ~kafka_process();
  kafka_process(const kafka_process&) = delete;
  kafka_process& operator=(const kafka_process&) = delete;

  /// "127.0.0.1:port,..." as the tool printed it.
  const std::string& bootstrap() const { return bootstrap_; }

  /// Sends one control line ("broker 2 down") and returns the tool's answer ("ok").
  std::string control(const std::string& line);

  /// Produces `records` (one message each) to `topic` with kcat, to
  /// `partition` (-1: kcat's partitioner); true when kcat succeeded.
  bool produce(const std::string& topic, const std::vector<std::string>& records,
               int partition = -1);

private:
  pid_t pid_ = -1;
  FILE* to_ = nullptr;   // its stdin
  FILE* from_ = nullptr; // its stdout
  std::string bootstrap_;
};

/// Path of the tickgate-kafka-mock binary under test.
std::string kafka_mock_binary();

} // namespace tickgate::test
