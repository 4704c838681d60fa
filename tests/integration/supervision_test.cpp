// Supervision and metrics against the real binary: a topic restarted 20 times
// while every topic is being published to; /metrics checked against traffic.

#include <atomic>
#include <map>
#include <sys/wait.h>
#include <thread>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "support/json_fields.hpp"
#include "support/node_process.hpp"
#include "support/ws_client.hpp"

using namespace std::chrono_literals;
using namespace tickgate::test;

namespace {

void subscribe(ws_client& c, const std::string& topic) {
  c.send_text(R"({"op":"subscribe","id":1,"topics":[")" + topic + R"("]})");
  auto ack = c.read_until([](const ws_message& m) { return json_string(m.data, "type") == "ack"; });
  ASSERT_TRUE(ack);
}

int ctl(const node_process& node, const std::string& args) {
  std::string cmd = tickgate_binary();
  cmd += "ctl --node 127.0.0.1:";
  cmd += std::to_string(node.admin_port());
  cmd += " ";
  cmd += args;
  cmd += " > /dev/null 2>&1";
  auto status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}


} // namespace

TEST(supervision, restarting_one_topic_20_times_leaves_the_other_nine_untouched) {
  node_process node({"--topic.restart-backoff=50ms", "--topic.restart-backoff-max=200ms"});
  constexpr int topics = 10;
  constexpr int per_topic = 10;
  std::vector<std::unique_ptr<ws_client>> clients;
  for (int t = 0; t < topics; ++t)
    for (int i = 0; i < per_topic; ++i) {
      clients.push_back(std::make_unique<ws_client>(node.port()));
      subscribe(*clients.back(), "t" + std::to_string(t));
    }
  // Steady publishing: one event per topic every 5 ms.
  std::atomic<bool> stop{false};
  std::atomic<int> batches{0};
  std::thread publisher([&] {
    while (!stop) {
      std::string body = "[";
      for (int t = 0; t < topics; ++t)
        body += std::string(t ? "," : "") + R"({"topic":"t)" + std::to_string(t)
                + R"(","data":)" + std::to_string(batches.load()) + "}";
      body += "]";
      if (http_request(node.port(), "POST", "/api/publish", body).status == 200)
        ++batches;
      std::this_thread::sleep_for(5ms);
    }
  });
  int restarts = 0;
  auto deadline = std::chrono::steady_clock::now() + 60s;
  while (restarts < 20 && std::chrono::steady_clock::now() < deadline) {
    // Exit 1 while the topic is held back after a burst of failures.
    if (ctl(node, "restart t0") == 0)
      ++restarts;
    else
      std::this_thread::sleep_for(20ms);
  }
  // t0's subscribers re-attach (the last restart may sit out a backoff), then
  // keep publishing until each of them has had time to receive again.
  EXPECT_TRUE(eventually([&] {
    return http_request(node.port(), "GET", "/health").body.find(R"("subscriptions":100)")
           != std::string::npos;
  }, 10000ms));
  auto more = batches.load() + 20;
  EXPECT_TRUE(eventually([&] { return batches.load() >= more; }, 10000ms));
  stop = true;
  publisher.join();
  ASSERT_EQ(restarts, 20);
  const int published = batches.load();
  ASSERT_GT(published, 50);

  for (int t = 0; t < topics; ++t) {
    for (int i = 0; i < per_topic; ++i) {
      auto& c = *clients[t * per_topic + i];
      // Steady topics: exactly `published` events, then silence. The restarted
      // topic: whatever arrives until a quiet 300 ms.
      std::vector<std::string> frames;
      while (t != 0 && static_cast<int>(frames.size()) < published) {
        auto m = c.read(2000ms);
        if (!m)
          break;
        frames.push_back(m->data);
      }
      while (auto m = c.read(t == 0 ? 300ms : 50ms))
        frames.push_back(m->data);
      ASSERT_FALSE(c.closed()) << "client of t" << t << " was disconnected";
      if (t != 0) {
        // Every message, in order, one epoch.
        ASSERT_EQ(static_cast<int>(frames.size()), published) << "topic t" << t;
        for (int k = 0; k < published; ++k) {
          EXPECT_EQ(json_string(frames[k], "seq"), std::to_string(k + 1)) << "t" << t;
          EXPECT_EQ(json_string(frames[k], "epoch"), json_string(frames[0], "epoch"));
        }
        continue;
      }
      // The restarted topic: resets announce new epochs; within an epoch the
      // sequence has no gaps; deliveries continue after the last reset.
      int resets = 0;
      std::string epoch;
      long last_seq = 0;
      bool event_after_last_reset = false;
      for (auto& f : frames) {
        auto type = json_string(f, "type");
        if (type == "reset") {
          ++resets;
          EXPECT_NE(json_string(f, "epoch"), epoch);
          epoch = json_string(f, "epoch");
          last_seq = 0;
          event_after_last_reset = false;
          continue;
        }
        ASSERT_EQ(type, "event") << f;
        if (epoch.empty())
          epoch = json_string(f, "epoch");
        EXPECT_EQ(json_string(f, "epoch"), epoch) << "event of another epoch without a reset";
        long seq = std::stol(json_string(f, "seq"));
        if (last_seq != 0) {
          EXPECT_EQ(seq, last_seq + 1);
        }
        last_seq = seq;
        event_after_last_reset = true;
      }
      EXPECT_GE(resets, 1);
      EXPECT_TRUE(event_after_last_reset) << "no delivery after the last restart";
    }
  }
  auto metrics = http_request(node.port(), "GET", "/metrics").body;
  EXPECT_EQ(metric_sample(metrics, "tickgate_topic_restarts_total"), 20);
  EXPECT_NE(node.log().find("topic.restart_backoff"), std::string::npos);
  EXPECT_EQ(http_request(node.port(), "GET", "/health").status, 200);
}

TEST(metrics, prometheus_output_matches_the_traffic) {
  node_process node;
  ws_client native{node.port(), "/v1"};
  ws_client action{node.port(), "/"};
  ws_client stream{node.port(), "/stream"};
  subscribe(native, "m1");
  action.send_text(R"({"action":"subscribe","symbols":["AAPL"]})");
  ASSERT_TRUE(action.read());
  stream.send_text(R"({"method":"SUBSCRIBE","params":["m1"],"id":1})");
  ASSERT_TRUE(stream.read());
  native.send_text("not json");
  ASSERT_TRUE(native.read());
  native.send_text(R"({"op":"fly"})");
  ASSERT_TRUE(native.read());
  for (int i = 0; i < 5; ++i)
    http_request(node.port(), "POST", "/api/publish", R"({"topic":"m1","data":1})");
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(native.read());
    ASSERT_TRUE(stream.read());
  }
  auto m = http_request(node.port(), "GET", "/metrics").body;
  EXPECT_NE(m.find("# TYPE tickgate_connections gauge"), std::string::npos);
  EXPECT_EQ(metric_sample(m, R"(tickgate_connections{dialect="native"})"), 1);
  EXPECT_EQ(metric_sample(m, R"(tickgate_connections{dialect="auto"})"), 1);
  EXPECT_EQ(metric_sample(m, R"(tickgate_connections{dialect="stream"})"), 1);
  EXPECT_EQ(metric_sample(m, "tickgate_subscriptions"), 3);
  EXPECT_EQ(metric_sample(m, "tickgate_topics"), 2);
  EXPECT_EQ(metric_sample(m, "tickgate_messages_in_total"), 5); // 3 subscribes + 2 bad frames
  EXPECT_EQ(metric_sample(m, R"(tickgate_messages_out_total{kind="event"})"), 10);
  EXPECT_EQ(metric_sample(m, "tickgate_publications_total"), 5);
  EXPECT_EQ(metric_sample(m, R"(tickgate_errors_total{code="bad_request"})"), 1);
  EXPECT_EQ(metric_sample(m, R"(tickgate_errors_total{code="unknown_op"})"), 1);
  EXPECT_EQ(metric_sample(m, "tickgate_topic_restarts_total"), 0);
  // Every event frame the clients read was written: the histogram counted it.
  EXPECT_EQ(metric_sample(m, "tickgate_publish_to_write_seconds_count"), 10);
  EXPECT_EQ(metric_sample(m, R"(tickgate_publish_to_write_seconds_bucket{le="+Inf"})"), 10);
  EXPECT_GE(metric_sample(m, "tickgate_publish_to_write_seconds_sum"), 0);
  EXPECT_EQ(http_request(node.port(), "GET", "/ready").status, 200);
  auto lb = http_request(node.port(), "GET", "/lb/status");
  EXPECT_EQ(lb.status, 200);
  EXPECT_NE(lb.body.find(R"("connections":3)"), std::string::npos) << lb.body;
}
