// The feed actor against a fake feed: what the feed is asked to follow, what
// topics hear, what reaches the router; the bus feed end to end; and a
// topic's status with two feeds.

#include <condition_variable>
#include <mutex>

#include <gtest/gtest.h>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include "actors/bus_feed.hpp"
#include "actors/feed_actor.hpp"
#include "actors/system_feed.hpp"
#include "support/node_process.hpp"
#include "support/routing_core.hpp"

using namespace tickgate;
using namespace std::chrono_literals;

namespace {

publication_ptr make_pub(std::string topic, std::string payload) {
  auto p = std::make_shared<publication>();
  p->topic = std::move(topic);
  p->payload = std::move(payload);
  p->kind = classify_payload(p->payload);
  return p;
}

/// Records the calls the feed actor makes; `confirm_at_once` is what
/// follow() answers. The reports handle lets a test act as the upstream.
class fake_feed : public feed {
public:
  bool starts_up = false;
  bool confirm_at_once = false;
  feed_reports reports;

  std::string name() const override { return "fake"; }
  bool up_at_start() const override { return starts_up; }
  void start(feed_reports r) override { reports = std::move(r); }
  bool follow(const std::string& t) override {
    record("FOLLOW " + t);
    return confirm_at_once;
  }
  void unfollow(const std::string& t) override { record("UNFOLLOW " + t); }
  publish_outcome publish(const publication_batch& batch) override {
    std::string s = "PUBLISH";
    for (auto& p : batch)
      s += " " + p->topic + "=" + p->payload;
    record(s);
    return publish_outcome::upstream;
  }

  /// Waits for the n-th call (0-based).
  std::string call(size_t n) {
    std::unique_lock<std::mutex> guard{mtx_};
    cv_.wait_for(guard, 3s, [&] { return calls_.size() > n; });
    return calls_.size() > n ? calls_[n] : "<none>";
  }

private:
  void record(std::string s) {
    std::lock_guard<std::mutex> guard{mtx_};
    calls_.push_back(std::move(s));
    cv_.notify_all();
  }

  std::mutex mtx_;
  std::condition_variable cv_;
  std::vector<std::string> calls_;
};

struct feed_actor_with_fake : ::testing::Test {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  std::shared_ptr<fake_feed> upstream = std::make_shared<fake_feed>();
  caf::scoped_actor router{sys};
  caf::scoped_actor topic{sys};
  caf::actor f;

  // Spawns the actor and waits until it started the feed (so `reports` is set).
  void start() {
    f = sys.spawn(feed_actor, upstream, caf::actor{router});
    describe();
  }

  actor_stats describe() {
    actor_stats s;
    router->request(f, 3s, inspect_atom_v).receive([&](actor_stats& r) { s = r; },
                                                   [](caf::error&) {});
    return s;
  }

  void TearDown() override { caf::anon_send(f, stop_atom_v); }

  void interest(const std::string& name, bool alive) {
    caf::anon_send(f, interest_atom_v, name, caf::actor{topic}, alive);
  }

  // The next feed_atom the fake topic receives: "up" / "down: reason".
  std::string next_feed(caf::duration timeout = caf::duration{3s}) {
    std::string out = "<none>";
    topic->receive(
      [&](feed_atom, bool up, const std::string& msg) {
        out = up ? "up" : "down: " + msg;
      },
      caf::after(timeout) >> [] {});
    return out;
  }
};

} // namespace

TEST_F(feed_actor_with_fake, follows_a_new_topic_and_reports_the_feed_up_once_confirmed) {
  upstream->starts_up = true;
  start();
  interest("trade@AAPL", true);
  EXPECT_EQ(upstream->call(0), "FOLLOW trade@AAPL");
  EXPECT_EQ(next_feed(caf::duration{100ms}), "<none>"); // not before the upstream confirms
  upstream->reports.confirmed({"trade@AAPL"});
  EXPECT_EQ(next_feed(), "up");
}

TEST_F(feed_actor_with_fake, a_topic_the_feed_delivers_at_once_hears_up_at_once) {
  upstream->starts_up = true;
  upstream->confirm_at_once = true;
  start();
  interest("x", true);
  EXPECT_EQ(next_feed(), "up");
}

TEST_F(feed_actor_with_fake, unfollows_when_the_last_incarnation_of_a_topic_stops) {
  upstream->starts_up = true;
  start();
  caf::scoped_actor older{sys};
  caf::anon_send(f, interest_atom_v, std::string{"a"}, caf::actor{older}, true);
  interest("a", true);
  caf::anon_send(f, interest_atom_v, std::string{"a"}, caf::actor{older}, false);
  interest("a", false);
  EXPECT_EQ(upstream->call(0), "FOLLOW a");
  EXPECT_EQ(upstream->call(1), "UNFOLLOW a"); // once, for the last one
}

TEST_F(feed_actor_with_fake, while_the_feed_is_down_topics_hear_why_then_up_after_it_confirms) {
  start(); // down at start
  interest("x", true);
  EXPECT_EQ(next_feed(), "down: fake not connected yet");
  EXPECT_EQ(upstream->call(0), "FOLLOW x"); // followed anyway: the feed restores it when up
  upstream->reports.status(true, "");
  upstream->reports.confirmed({"x"});
  EXPECT_EQ(next_feed(), "up");
  upstream->reports.status(false, "fake unavailable: connection lost");
  EXPECT_EQ(next_feed(), "down: fake unavailable: connection lost");
  upstream->reports.confirmed({"x"}); // stale: from before the loss
  upstream->reports.status(true, "");
  EXPECT_EQ(next_feed(caf::duration{100ms}), "<none>");
  upstream->reports.confirmed({"x"});
  EXPECT_EQ(next_feed(), "up");
}

TEST_F(feed_actor_with_fake, hands_deliveries_to_the_router_in_one_message) {
  start();
  upstream->reports.deliver({make_pub("a", "1"), make_pub("b", "2")});
  publication_batch got;
  router->receive([&](route_atom, const publication_batch& pubs) { got = pubs; },
                  caf::after(3s) >> [] {});
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0]->topic, "a");
  EXPECT_EQ(got[1]->payload, "2");
}

TEST_F(feed_actor_with_fake, publishes_through_the_feed_without_delivering_them_itself) {
  upstream->starts_up = true;
  start();
  caf::anon_send(f, publish_atom_v, publication_batch{make_pub("t", "1"), make_pub("u", "2")});
  EXPECT_EQ(upstream->call(0), "PUBLISH t=1 u=2");
  bool routed = false;
  router->receive([&](route_atom, const publication_batch&) { routed = true; },
                  caf::after(100ms) >> [] {});
  EXPECT_FALSE(routed); // it comes back from the upstream, if at all
}

TEST_F(feed_actor_with_fake, leaves_system_topics_to_the_system_feed_and_drops_deliveries_to_them) {
  start(); // down at start: a topic it follows would hear "down"
  interest("$sys:stats", true);
  EXPECT_EQ(next_feed(), "up"); // not this feed's topic: up as far as it is concerned
  interest("x", true);
  EXPECT_EQ(upstream->call(0), "FOLLOW x"); // the first call: $sys:stats was never followed
  EXPECT_EQ(next_feed(), "down: fake not connected yet");
  upstream->reports.status(false, "fake unavailable: connection lost");
  interest("$sys:stats", false);
  interest("x", false);
  EXPECT_EQ(upstream->call(1), "UNFOLLOW x");
  // A delivery naming a system topic (a Redis pattern could match one) is dropped.
  upstream->reports.deliver({make_pub("$sys:stats", "{\"forged\":1}"), make_pub("b", "2")});
  publication_batch got;
  router->receive([&](route_atom, const publication_batch& pubs) { got = pubs; },
                  caf::after(3s) >> [] {});
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0]->topic, "b");
}

TEST(system_feed, follows_only_system_topics_and_tells_the_inspector) {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor inspector{sys};
  caf::scoped_actor router{sys};
  caf::scoped_actor topic{sys};
  auto f = sys.spawn(feed_actor, std::make_shared<system_feed>(caf::actor{inspector}),
                     caf::actor{router});
  caf::anon_send(f, interest_atom_v, std::string{"trade@AAPL"}, caf::actor{topic}, true);
  caf::anon_send(f, interest_atom_v, std::string{"$sys:stats"}, caf::actor{topic}, true);
  caf::anon_send(f, interest_atom_v, std::string{"$sys:stats"}, caf::actor{topic}, false);
  std::vector<std::string> told;
  for (int i = 0; i < 2; ++i)
    inspector->receive(
      [&](systopic_atom, const std::string& t, bool alive) {
        told.push_back(t + (alive ? " alive" : " gone"));
      },
      caf::after(3s) >> [] {});
  EXPECT_EQ(told, (std::vector<std::string>{"$sys:stats alive", "$sys:stats gone"}));
  bool more = false;
  inspector->receive([&](systopic_atom, const std::string&, bool) { more = true; },
                     caf::after(100ms) >> [] {});
  EXPECT_FALSE(more); // trade@AAPL is not its business
  caf::anon_send(f, stop_atom_v);
}

TEST_F(feed_actor_with_fake, describes_itself_as_the_bridge_with_its_feeds_name_and_status) {
  start();
  interest("x", true);
  auto s = describe();
  EXPECT_EQ(s.kind, "bridge");
  EXPECT_EQ(s.name, "fake");
  EXPECT_NE(std::find(s.extra.begin(), s.extra.end(),
                      std::pair<std::string, std::string>{"link", "\"down\""}),
            s.extra.end());
  EXPECT_NE(std::find(s.extra.begin(), s.extra.end(),
                      std::pair<std::string, std::string>{"topics", "1"}),
            s.extra.end());
}

namespace {

/// The routing core with real feed actors: the bus, and optionally a fake
/// second feed.
struct routing_with_feeds : ::testing::Test {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::shared_ptr<fake_feed> second = std::make_shared<fake_feed>();
  caf::actor bus, other, router;
  routing_settings settings;

  void start(bool with_second) {
    settings.topic_idle_grace = 5s;
    sys = std::make_unique<caf::actor_system>(cfg);
    std::vector<caf::actor> feeds;
    bus = sys->spawn(feed_actor, std::make_shared<bus_feed>(), caf::actor{});
    feeds.push_back(bus);
    if (with_second) {
      second->starts_up = true;
      second->confirm_at_once = true;
      other = sys->spawn(feed_actor, second, caf::actor{});
      feeds.push_back(other);
    }
    router = sys->spawn(router_actor, settings, feeds);
    for (auto& f : feeds)
      caf::anon_send(f, use_atom_v, router);
  }

  void TearDown() override {
    caf::anon_send(router, stop_atom_v);
    caf::anon_send(bus, stop_atom_v);
    if (other)
      caf::anon_send(other, stop_atom_v);
    sys->await_all_actors_done();
  }

  test::routing_core::client connect() {
    test::routing_core::client c;
    c.conn = sys->spawn(connection_actor, c.sink, router,
                        std::make_shared<const routing_settings>(settings), client_info{});
    return c;
  }

  void subscribe(test::routing_core::client& c, const std::string& t) {
    client_command cmd;
    cmd.op = client_op::subscribe;
    cmd.id = 1;
    cmd.topics = {t};
    caf::anon_send(c.conn, std::move(cmd));
  }

  // Whether `c` receives a frame holding every one of `parts` within 3 s.
  static bool receives(test::routing_core::client& c, std::vector<std::string> parts) {
    return test::eventually(
      [&] {
        for (auto& f : c.sink->frames()) {
          bool all = true;
          for (auto& p : parts)
            all = all && f.find(p) != std::string::npos;
          if (all)
            return true;
        }
        return false;
      },
      3000ms);
  }
};

} // namespace

TEST_F(routing_with_feeds, a_publish_on_the_bus_reaches_the_topics_subscribers) {
  start(false);
  auto c = connect();
  subscribe(c, "trade@AAPL");
  ASSERT_TRUE(receives(c, {R"("type":"ack")"}));
  caf::anon_send(bus, publish_atom_v, publication_batch{make_pub("trade@AAPL", R"({"p":"1.5"})")});
  EXPECT_TRUE(receives(c, {R"("data":{"p":"1.5"})"}));
}

TEST_F(routing_with_feeds, a_second_feeds_outage_reaches_the_topics_subscribers_and_its_return_too) {
  start(true);
  auto c = connect();
  subscribe(c, "trade@AAPL");
  ASSERT_TRUE(receives(c, {R"("type":"ack")"}));
  second->reports.status(false, "fake unavailable: broker gone");
  EXPECT_TRUE(receives(c, {"feed_down", "fake unavailable: broker gone"}));
  second->reports.status(true, "");
  second->reports.confirmed({"trade@AAPL"}); // a feed confirms its topics again when back
  EXPECT_TRUE(receives(c, {"feed_up"}));
  // The bus still delivers throughout.
  caf::anon_send(bus, publish_atom_v, publication_batch{make_pub("trade@AAPL", R"({"p":"2"})")});
  EXPECT_TRUE(receives(c, {R"("data":{"p":"2"})"}));
}
