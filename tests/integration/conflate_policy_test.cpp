// The conflate slow-consumer policy against the real binary: a client that
// stops reading while topics keep publishing is not closed and loses no
// topic's latest value; the older values it skipped are counted.

#include <map>
#include <string>

#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include "support/json_fields.hpp"
#include "support/node_process.hpp"
#include "support/raw_upgrade.hpp"
#include "support/ws_client.hpp"

using namespace std::chrono_literals;
using namespace tickgate::test;

namespace {

// A publish body of one event on each of `topics` per round, `rounds` times,
// each carrying `pad`.
std::string interleaved_events(const std::vector<std::string>& topics, const std::string& pad,
                               int rounds) {
  std::string body = "[";
  for (int i = 0; i < rounds; ++i)
    for (auto& t : topics)
      body += std::string{body.size() > 1 ? "," : ""} + R"({"topic":")" + t
              + R"(","data":{"pad":")" + pad + "\"}}";
  return body + "]";
}

TEST(conflate_policy, a_client_that_stops_reading_gets_each_topics_newest_value_and_stays_connected) {
  node_process node({"--ws.slow-consumer-policy=conflate", "--ws.outbound-max-messages=64",
                     "--ws.outbound-max-bytes=1048576"});
  boost::asio::io_context ioc;
  // A small receive buffer, so the kernel holds little of what the node sends.
  auto slow = upgrade(ioc, node.port(), "", 4096);
  ASSERT_EQ(slow.status, 101);
  frame_reader reader{*slow.socket};
  boost::asio::write(*slow.socket, boost::asio::buffer(client_frame(
                                     R"({"op":"subscribe","id":1,"topics":["a","b","c"]})")));
  auto ack = reader.read(5s);
  ASSERT_TRUE(ack);
  ASSERT_EQ(json_field(ack->payload, "type"), "\"ack\"") << ack->payload;

  // 1,000 events of 4 KB on each topic while the client reads nothing: far
  // more than its kernel buffers and 64-frame queue hold.
  const std::vector<std::string> topics{"a", "b", "c"};
  constexpr int per_topic = 1000;
  constexpr int rounds_per_publish = 20;
  std::string pad(4000, 'x');
  for (int i = 0; i < per_topic / rounds_per_publish; ++i)
    ASSERT_EQ(http_request(node.port(), "POST", "/api/publish",
                           interleaved_events(topics, pad, rounds_per_publish))
                .status,
              200);

  // Now it reads: each topic's events in order, ending with its newest.
  std::map<std::string, uint64_t> last;
  int received = 0;
  auto caught_up = [&] {
    for (auto& t : topics)
      if (last[t] != per_topic)
        return false;
    return true;
  };
  while (!caught_up()) {
    auto f = reader.read(5s);
    ASSERT_TRUE(f) << "the newest value of every topic must arrive";
    ASSERT_NE(f->opcode, 0x8) << "the slow client was closed";
    ASSERT_EQ(json_field(f->payload, "type"), "\"event\"") << f->payload.substr(0, 200);
    auto topic = json_string(f->payload, "topic");
    auto seq = std::stoull(json_field(f->payload, "seq"));
    EXPECT_GT(seq, last[topic]) << topic << ": out of order";
    last[topic] = seq;
    ++received;
  }
  EXPECT_LT(received, 3 * per_topic) << "older values were skipped";

  // Still connected and answering.
  boost::asio::write(*slow.socket,
                     boost::asio::buffer(client_frame(R"({"op":"ping","id":2})")));
  auto pong = reader.read(5s);
  ASSERT_TRUE(pong);
  EXPECT_EQ(json_field(pong->payload, "type"), "\"pong\"") << pong->payload.substr(0, 200);

  // Every event arrived or was counted as conflated; nothing else was lost.
  EXPECT_EQ(node_metric(node.port(), "tickgate_slow_consumer_conflated_total"),
            3 * per_topic - received);
  EXPECT_EQ(node_metric(node.port(), "tickgate_slow_consumer_dropped_total"), 0);
  EXPECT_EQ(node_metric(node.port(), "tickgate_slow_consumer_disconnects_total"), 0);
}

} // namespace
