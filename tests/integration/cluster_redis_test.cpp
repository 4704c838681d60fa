// A cluster with Redis (redis.numbering, on by default in a cluster): Redis
// stays the data path, so every event reaches each node once; publishes made
// through any node are numbered in Redis, so every node gives an event the
// same seq and epoch, and a client resumes on a node that never followed the
// topic from the stream Redis keeps. Plain PUBLISHes of other publishers keep
// node-local positions.

#include <map>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include "support/cluster_nodes.hpp"
#include "support/json_fields.hpp"
#include "support/redis_process.hpp"

using namespace std::chrono_literals;
using namespace tickgate::test;

namespace {

std::vector<seen_event> events_only(std::vector<seen_event> seen) {
  std::erase_if(seen, [](const seen_event& e) { return e.seq == 0; });
  return seen;
}

} // namespace

TEST(cluster_redis, every_node_gets_each_event_once_with_the_position_redis_gave_it) {
  redis_process redis;
  cluster c{3, {"--redis.url=" + redis.url()}};
  std::vector<std::string> topics{"trade@R1", "trade@R2", "trade@R3"};
  std::vector<std::unique_ptr<ws_client>> clients;
  for (size_t i = 0; i < 3; ++i) {
    clients.push_back(std::make_unique<ws_client>(c.port(i)));
    auto ack = subscribe(*clients.back(), topics);
    ASSERT_EQ(json_string(ack, "type"), "ack") << ack;
  }
  constexpr size_t per_topic = 6;
  for (size_t k = 0; k < per_topic; ++k)
    for (size_t t = 0; t < topics.size(); ++t)
      ASSERT_TRUE(publish(c.port((k + t) % 3), topics[t], std::to_string(k * 10 + t)));
  // Each node: seq 1..6 per topic in order, no reset, the same epoch and
  // payload per seq as on the other nodes.
  std::map<std::string, std::map<uint64_t, std::string>> payload_at;
  std::map<std::string, std::string> epoch_of;
  for (size_t i = 0; i < 3; ++i) {
    auto events = read_events(*clients[i], per_topic * topics.size());
    ASSERT_EQ(events.size(), per_topic * topics.size()) << "node " << i + 1;
    std::map<std::string, uint64_t> last;
    for (auto& e : events) {
      ASSERT_NE(e.seq, 0u) << "a reset on node " << i + 1;
      EXPECT_EQ(e.seq, last[e.topic] + 1) << e.topic << " on node " << i + 1;
      last[e.topic] = e.seq;
      if (i == 0) {
        payload_at[e.topic][e.seq] = e.data;
        epoch_of[e.topic] = e.epoch;
      } else {
        EXPECT_EQ(e.epoch, epoch_of[e.topic]) << e.topic << " on node " << i + 1;
        EXPECT_EQ(e.data, payload_at[e.topic][e.seq]) << e.topic << " seq " << e.seq;
      }
    }
  }
  // Nothing twice: one more event per topic is the next thing each client reads.
  for (size_t t = 0; t < topics.size(); ++t)
    ASSERT_TRUE(publish(c.port(t), topics[t], "\"last\""));
  for (size_t i = 0; i < 3; ++i) {
    auto events = read_events(*clients[i], topics.size());
    ASSERT_EQ(events.size(), topics.size());
    for (auto& e : events) {
      EXPECT_EQ(e.seq, per_topic + 1) << e.topic << " on node " << i + 1;
      EXPECT_EQ(e.data, "\"last\"");
    }
  }
  // Redis holds each topic's position and its capped stream, expiring.
  auto pos = redis_command(redis.port(), {"HGET", "tickgate:pos:{trade@R1}", "s"});
  ASSERT_EQ(pos.size(), 1u);
  EXPECT_EQ(pos[0], std::to_string(per_topic + 1));
  EXPECT_EQ(redis_command(redis.port(), {"XLEN", "tickgate:stream:{trade@R1}"}),
            std::vector<std::string>{std::to_string(per_topic + 1)});
  auto ttl = redis_command(redis.port(), {"TTL", "tickgate:stream:{trade@R1}"});
  ASSERT_EQ(ttl.size(), 1u);
  EXPECT_GT(std::stoi(ttl[0]), 0);
}

TEST(cluster_redis, a_client_whose_node_died_resumes_on_a_node_that_never_followed_the_topic) {
  redis_process redis;
  cluster c{2, {"--redis.url=" + redis.url(), "--redis.stream-size=5"}};
  std::string kept = "trade@KEEP";
  std::string gone = "trade@GONE";
  ws_client a{c.port(0)};
  auto ack = subscribe(a, {kept, gone});
  ASSERT_EQ(json_string(ack, "type"), "ack") << ack;
  for (int k = 1; k <= 3; ++k) {
    ASSERT_TRUE(publish(c.port(0), kept, std::to_string(k)));
    ASSERT_TRUE(publish(c.port(0), gone, std::to_string(k)));
  }
  auto seen = read_events(a, 6);
  ASSERT_EQ(seen.size(), 6u);
  std::string epoch; // kept's
  for (auto& e : seen)
    if (e.topic == kept)
      epoch = e.epoch;
  EXPECT_EQ(epoch, epoch_in_ack(ack, kept));
  EXPECT_EQ(seen.back().seq, 3u);
  // n2 has no client on either topic: it never followed them.
  EXPECT_EQ(node_metric(c.port(1), "tickgate_topics"), 0);
  c.nodes[0]->stop(SIGKILL, 5s);
  // Published through n2 while the client is away: 4, 5 for one topic; 4..9
  // for the other, more than the stream's 5 keep past the client's seq 3.
  for (int k = 4; k <= 5; ++k)
    ASSERT_TRUE(publish(c.port(1), kept, std::to_string(k)));
  for (int k = 4; k <= 9; ++k)
    ASSERT_TRUE(publish(c.port(1), gone, std::to_string(k)));
  ASSERT_TRUE(eventually([&] {
    return redis_command(redis.port(), {"HGET", "tickgate:pos:{" + gone + "}", "s"})
           == std::vector<std::string>{"9"};
  }, 5s));
  ws_client back{c.port(1)};
  auto since = R"(,"since":{")" + kept + R"(":{"epoch":")" + epoch + R"(","seq":3},")" + gone
               + R"(":{"epoch":")" + epoch_in_ack(ack, gone) + R"(","seq":3}})";
  auto resumed = subscribe(back, {kept, gone}, since);
  ASSERT_EQ(json_string(resumed, "type"), "ack") << resumed;
  auto recovered = json_field(resumed, "recovered");
  EXPECT_EQ(json_field(recovered, kept.c_str()), "true") << resumed;
  EXPECT_EQ(json_field(recovered, gone.c_str()), "false") << resumed;
  EXPECT_EQ(epoch_in_ack(resumed, kept), epoch);
  auto rest = events_only(read_events(back, 2));
  ASSERT_EQ(rest.size(), 2u);
  EXPECT_EQ(rest[0].topic, kept);
  EXPECT_EQ(rest[0].seq, 4u);
  EXPECT_EQ(rest[0].data, "4");
  EXPECT_EQ(rest[1].seq, 5u);
  EXPECT_EQ(rest[1].epoch, epoch);
  // The stream goes on from there for both.
  ASSERT_TRUE(publish(c.port(1), kept, "6"));
  ASSERT_TRUE(publish(c.port(1), gone, "10"));
  auto next = events_only(read_events(back, 2));
  ASSERT_EQ(next.size(), 2u);
  std::map<std::string, uint64_t> seq_of;
  for (auto& e : next)
    seq_of[e.topic] = e.seq;
  EXPECT_EQ(seq_of[kept], 6u);
  EXPECT_EQ(seq_of[gone], 10u);
}

TEST(cluster_redis, plain_publishes_of_other_publishers_are_delivered_with_node_local_positions) {
  redis_process redis;
  cluster c{2, {"--redis.url=" + redis.url()}};
  std::string topic = "news@PLAIN";
  ws_client a{c.port(0)};
  ws_client b{c.port(1)};
  ASSERT_EQ(json_string(subscribe(a, {topic}), "type"), "ack");
  ASSERT_EQ(json_string(subscribe(b, {topic}), "type"), "ack");
  ASSERT_TRUE(publish(c.port(0), topic, "1"));
  ASSERT_EQ(read_events(a, 1).size(), 1u);
  ASSERT_EQ(read_events(b, 1).size(), 1u);
  // Another publisher's PUBLISH carries no position: each node numbers it
  // itself, after a reset, and nothing is lost either way.
  redis_command(redis.port(), {"PUBLISH", topic, "\"plain\""});
  ASSERT_TRUE(publish(c.port(1), topic, "2"));
  for (auto* client : {&a, &b}) {
    auto events = read_events(*client, 2);
    std::vector<std::string> data;
    size_t resets = 0;
    for (auto& e : events) {
      if (e.seq == 0)
        ++resets;
      else
        data.push_back(e.data);
    }
    EXPECT_EQ(data, (std::vector<std::string>{"\"plain\"", "2"}));
    EXPECT_EQ(resets, 2u); // into the node's own epoch, and back to Redis'
    ASSERT_FALSE(events.empty());
    EXPECT_EQ(events.back().seq, 2u); // Redis' second event of the topic
  }
}
