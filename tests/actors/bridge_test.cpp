// The bridge actor against a fake Redis port: which (un)subscriptions it asks
// for, what topics hear, and what reaches the router.

#include <condition_variable>
#include <mutex>

#include <gtest/gtest.h>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include "actors/bridge_actor.hpp"
#include "actors/metrics.hpp"

using namespace tickgate;
using namespace std::chrono_literals;

namespace {

class fake_port : public redis_port {
public:
  void subscribe(std::vector<std::string> c) override { record("SUBSCRIBE", c); }
  void unsubscribe(std::vector<std::string> c) override { record("UNSUBSCRIBE", c); }
  void psubscribe(std::vector<std::string> p) override { record("PSUBSCRIBE", p); }
  void publish(std::vector<std::pair<std::string, std::string>> m) override {
    std::vector<std::string> flat;
    for (auto& [ch, payload] : m)
      flat.push_back(ch + "=" + payload);
    record("PUBLISH", flat);
  }

  /// Waits for the n-th call (0-based) and returns it as "VERB a b ...".
  std::string call(size_t n) {
    std::unique_lock<std::mutex> guard{mtx_};
    cv_.wait_for(guard, 3s, [&] { return calls_.size() > n; });
    return calls_.size() > n ? calls_[n] : "<none>";
  }

  size_t count() {
    std::lock_guard<std::mutex> guard{mtx_};
    return calls_.size();
  }

private:
  void record(const char* verb, const std::vector<std::string>& args) {
    std::string s = verb;
    for (auto& a : args)
      s += " " + a;
    std::lock_guard<std::mutex> guard{mtx_};
    calls_.push_back(s);
    cv_.notify_all();
  }

  std::mutex mtx_;
  std::condition_variable cv_;
  std::vector<std::string> calls_;
};

struct bridge : ::testing::Test {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  std::shared_ptr<fake_port> port = std::make_shared<fake_port>();
  caf::scoped_actor router{sys};
  caf::scoped_actor topic{sys};
  caf::actor b;

  void start(bridge_settings s = {}) {
    b = sys.spawn(bridge_actor, port, caf::actor{router}, std::move(s));
  }

  void TearDown() override { caf::anon_send(b, stop_atom_v); }

  // The next feed_atom the fake topic receives: "up" / "down: reason".
  std::string next_feed() {
    std::string out = "<none>";
    topic->receive(
      [&](feed_atom, bool up, const std::string& msg) {
        out = up ? "up" : "down: " + msg;
      },
      caf::after(3s) >> [] {});
    return out;
  }
};

} // namespace

TEST_F(bridge, subscribes_a_topics_channel_and_reports_the_feed_once_confirmed) {
  start();
  caf::anon_send(b, link_atom_v, true, std::string{});
  caf::anon_send(b, interest_atom_v, std::string{"trade@AAPL"}, caf::actor{topic}, true);
  EXPECT_EQ(port->call(0), "SUBSCRIBE trade@AAPL");
  caf::anon_send(b, subscribed_atom_v, std::string{"trade@AAPL"}, false);
  EXPECT_EQ(next_feed(), "up");
}

TEST_F(bridge, unsubscribes_when_the_last_topic_of_a_channel_stops) {
  start();
  caf::anon_send(b, link_atom_v, true, std::string{});
  caf::anon_send(b, interest_atom_v, std::string{"a"}, caf::actor{topic}, true);
  caf::anon_send(b, interest_atom_v, std::string{"a"}, caf::actor{topic}, false);
  EXPECT_EQ(port->call(0), "SUBSCRIBE a");
  EXPECT_EQ(port->call(1), "UNSUBSCRIBE a");
}

TEST_F(bridge, while_redis_is_down_topics_serve_and_hear_feed_down_then_resubscribe) {
  start();
  caf::anon_send(b, interest_atom_v, std::string{"x"}, caf::actor{topic}, true);
  EXPECT_EQ(next_feed().rfind("down: ", 0), 0u);
  EXPECT_EQ(port->count(), 0u);
  caf::anon_send(b, link_atom_v, true, std::string{});
  EXPECT_EQ(port->call(0), "SUBSCRIBE x");
  caf::anon_send(b, subscribed_atom_v, std::string{"x"}, false);
  EXPECT_EQ(next_feed(), "up");
  caf::anon_send(b, link_atom_v, false, std::string{"connection lost"});
  EXPECT_EQ(next_feed(), "down: redis unavailable: connection lost");
  caf::anon_send(b, link_atom_v, true, std::string{});
  EXPECT_EQ(port->call(1), "SUBSCRIBE x");
}

TEST_F(bridge, channels_covered_by_a_pattern_get_no_subscribe_of_their_own) {
  bridge_settings s;
  s.patterns = {"channel:trade:*"};
  ASSERT_FALSE(channel_map::parse({"trade@{s} -> channel:trade:{s}"}, s.mapping));
  start(std::move(s));
  caf::anon_send(b, link_atom_v, true, std::string{});
  EXPECT_EQ(port->call(0), "PSUBSCRIBE channel:trade:*");
  caf::anon_send(b, interest_atom_v, std::string{"trade@Z"}, caf::actor{topic}, true);
  caf::anon_send(b, subscribed_atom_v, std::string{"channel:trade:*"}, true);
  EXPECT_EQ(next_feed(), "up");
  caf::anon_send(b, interest_atom_v, std::string{"ticker@Z"}, caf::actor{topic}, true);
  EXPECT_EQ(port->call(1), "SUBSCRIBE ticker@Z");
}

TEST_F(bridge, turns_redis_messages_into_publications_for_the_router) {
  bridge_settings s;
  s.max_payload_bytes = 10;
  ASSERT_FALSE(channel_map::parse({"trade@{s} -> channel:trade:{s}"}, s.mapping));
  start(std::move(s));
  auto oversize_before = node_metrics().bridge_oversize.load();
  redis_batch batch{{"channel:trade:A", R"({"p":1})"},
                    {"channel:trade:A", "01234567890"},
                    {"other", std::string("\xff", 1)}};
  caf::anon_send(b, std::move(batch));
  publication_batch got;
  router->receive([&](publish_atom, const publication_batch& pubs) { got = pubs; },
                  caf::after(3s) >> [] {});
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0]->topic, "trade@A");
  EXPECT_EQ(got[0]->kind, payload_kind::json);
  EXPECT_EQ(got[1]->topic, "other");
  EXPECT_EQ(got[1]->kind, payload_kind::binary);
  EXPECT_EQ(node_metrics().bridge_oversize.load(), oversize_before + 1);
}

TEST_F(bridge, publishes_through_redis_with_channel_names_and_drops_while_down) {
  bridge_settings s;
  ASSERT_FALSE(channel_map::parse({"trade@{s} -> channel:trade:{s}"}, s.mapping));
  start(std::move(s));
  auto make = [](std::string topic, std::string payload) {
    auto p = std::make_shared<publication>();
    p->topic = std::move(topic);
    p->payload = std::move(payload);
    return publication_ptr{p};
  };
  auto dropped_before = node_metrics().bridge_publish_dropped.load();
  caf::anon_send(b, publish_atom_v, publication_batch{make("trade@A", "1")});
  caf::anon_send(b, link_atom_v, true, std::string{});
  caf::anon_send(b, publish_atom_v,
                 publication_batch{make("trade@A", "2"), make("x", "3")});
  EXPECT_EQ(port->call(0), "PUBLISH channel:trade:A=2 x=3");
  EXPECT_EQ(node_metrics().bridge_publish_dropped.load(), dropped_before + 1);
}
