// tickgate-kafka-mock: a Kafka cluster for tests and for trying the Kafka
// feed, librdkafka's mock cluster (rdkafka_mock.h) behind a command line.
// It speaks the Kafka protocol over TCP on loopback; producers (kcat) and
// consumers (tickgate) use it like a real cluster. It keeps everything in
// memory: production uses a real Kafka cluster.
//
//   tickgate-kafka-mock --brokers 3 --topics price.updates:4,system.alerts:1
//
// prints its bootstrap address ("127.0.0.1:34567,127.0.0.1:...") as the first
// line on stdout and runs until SIGTERM/SIGINT or until stdin closes. Lines
// on stdin control it; each is answered with one line, "ok" or "error ...":
//   broker <id|all> down|up         disconnect a broker (ids 1..N) / accept again
//   rtt <id|all> <ms>               delay a broker's responses
//   leader <topic> <partition> <id> move a partition's leadership
//   topic <name> <partitions>       create a topic
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>

#include <CLI/CLI.hpp>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

namespace {

// "a:4,b" -> create a with 4 partitions and b with `default_partitions`.
bool create_topics(rd_kafka_mock_cluster_t* mc, const std::string& spec, int default_partitions) {
  std::stringstream in{spec};
  std::string item;
  while (std::getline(in, item, ',')) {
    if (item.empty())
      continue;
    auto colon = item.rfind(':');
    int partitions = default_partitions;
    std::string name = item;
    if (colon != std::string::npos) {
      name = item.substr(0, colon);
      partitions = std::atoi(item.c_str() + colon + 1);
    }
    if (name.empty() || partitions < 1
        || rd_kafka_mock_topic_create(mc, name.c_str(), partitions, 1) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      std::fprintf(stderr, "tickgate-kafka-mock: bad topic '%s'\n", item.c_str());
      return false;
    }
  }
  return true;
}

int32_t broker_id(const std::string& s) {
  return s == "all" ? -1 : std::atoi(s.c_str());
}

std::string execute(rd_kafka_mock_cluster_t* mc, const std::string& line) {
  std::istringstream in{line};
  std::string cmd, a, b, c;
  in >> cmd >> a >> b >> c;
  rd_kafka_resp_err_t rc = RD_KAFKA_RESP_ERR__INVALID_ARG;
  if (cmd == "broker" && b == "down")
    rc = rd_kafka_mock_broker_set_down(mc, broker_id(a));
  else if (cmd == "broker" && b == "up")
    rc = rd_kafka_mock_broker_set_up(mc, broker_id(a));
  else if (cmd == "rtt" && !b.empty())
    rc = rd_kafka_mock_broker_set_rtt(mc, broker_id(a), std::atoi(b.c_str()));
  else if (cmd == "leader" && !c.empty())
    rc = rd_kafka_mock_partition_set_leader(mc, a.c_str(), std::atoi(b.c_str()), std::atoi(c.c_str()));
  else if (cmd == "topic" && !b.empty())
    rc = rd_kafka_mock_topic_create(mc, a.c_str(), std::atoi(b.c_str()), 1);
  else
    return "error unknown command (broker <id|all> down|up, rtt <id|all> <ms>, "
           "leader <topic> <partition> <id>, topic <name> <partitions>)";
  return rc == RD_KAFKA_RESP_ERR_NO_ERROR ? "ok" : std::string{"error "} + rd_kafka_err2str(rc);
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"A Kafka mock cluster (librdkafka's) for tests; production uses a real Kafka cluster"};
  int brokers = 3;
  std::string topics;
  int partitions = 4;
  app.add_option("--brokers", brokers, "number of brokers (ids 1..N)")->check(CLI::Range(1, 16));
  app.add_option("--topics", topics, "topics to create: name[:partitions],...");
  app.add_option("--partitions", partitions, "partitions of a topic given without a count")
    ->check(CLI::Range(1, 1000));
  CLI11_PARSE(app, argc, argv);

  // Signals are taken by sigwait below; every thread (librdkafka's too)
  // inherits the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  // The mock cluster needs a client instance for its bookkeeping.
  char err[512];
  auto* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
  auto* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!rk) {
    std::fprintf(stderr, "tickgate-kafka-mock: %s\n", err);
    return 1;
  }
  auto* mc = rd_kafka_mock_cluster_new(rk, brokers);
  if (!mc) {
    std::fprintf(stderr, "tickgate-kafka-mock: could not create the mock cluster\n");
    rd_kafka_destroy(rk);
    return 1;
  }
  if (!create_topics(mc, topics, partitions)) {
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    return 2;
  }
  std::printf("%s\n", rd_kafka_mock_cluster_bootstraps(mc));
  std::fflush(stdout);

  std::thread control{[mc] {
    std::string line;
    while (std::getline(std::cin, line)) {
      if (line.empty())
        continue;
      std::printf("%s\n", execute(mc, line).c_str());
      std::fflush(stdout);
    }
    kill(getpid(), SIGTERM); // stdin closed: the owner is gone
  }};
  control.detach();
  int sig = 0;
  sigwait(&stop_signals, &sig);
  rd_kafka_mock_cluster_destroy(mc);
  rd_kafka_destroy(rk);
  return 0;
}
