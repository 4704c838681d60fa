// The Socket.IO emitter feed against a real redis-server: the unmodified
// @socket.io/redis-emitter publishes, the unmodified socket.io-client
// receives from the real binary (tests/socketio/emitter_test.js).

#include <chrono>
#include <string>

#include <gtest/gtest.h>

#include "support/node_process.hpp"
#include "support/redis_process.hpp"
#include "support/ws_client.hpp"

using namespace tickgate::test;

namespace {

// PUBLISHes until a subscriber received it (the feed subscribes after start).
bool published(uint16_t redis_port, const std::string& channel, const std::string& message) {
  return eventually([&] {
    auto r = redis_command(redis_port, {"PUBLISH", channel, message});
    return !r.empty() && r.front() == "1";
  });
}

} // namespace

TEST(emitter_feed, emits_reach_socketio_clients_by_room_namespace_and_except) {
  redis_process redis;
  node_process node({"--redis.url=" + redis.url(), "--socketio.redis-emitter"});
  // What the feed cannot act on is counted, and harms nothing after it.
  ASSERT_TRUE(published(redis.port(), "socket.io#/#", "not msgpack \xc1"));
  ASSERT_TRUE(published(redis.port(), "socket.io-request#/#", R"({"type":6,"data":["x"]})"));
  EXPECT_TRUE(eventually([&] {
    return node_metric(node.port(), R"(tickgate_emitter_skipped_total{reason="malformed"})") == 1
           && node_metric(node.port(), R"(tickgate_emitter_skipped_total{reason="request"})") == 1;
  }));

  // A namespace's own topic is the node's: no client follows /admin's emits
  // without joining /admin.
  ws_client native{node.port(), "/v1"};
  native.send_text(R"({"op":"subscribe","id":1,"topics":["nsp:/admin"]})");
  auto refused = native.read(std::chrono::milliseconds{5000});
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->data, R"({"type":"error","id":1,"code":"forbidden","message":"nsp:/admin is a Socket.IO namespace's own topic"})");

  auto script = std::string{TICKGATE_SOURCE_DIR} + "/tests/socketio/emitter_test.js";
  auto r = run_command("node " + script + " " + std::to_string(node.port()) + " "
                       + std::to_string(redis.port()));
  EXPECT_EQ(r.code, 0) << r.out << node.log();
  EXPECT_NE(r.out.find("emitter: all checks passed"), std::string::npos) << r.out;
  // Six emits and six markers, each delivered once.
  EXPECT_EQ(node_metric(node.port(), "tickgate_emitter_delivered_total"), 12);
  EXPECT_EQ(node_metric(node.port(), "tickgate_emitter_packets_in_total"), 14);
}
