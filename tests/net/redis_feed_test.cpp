// The Redis feed against a fake Redis port: which (P/UN)SUBSCRIBEs and
// PUBLISHes it sends for the topics it follows, and what it reports to its
// feed actor (here a scoped actor) for Redis' confirmations and messages.

#include <gtest/gtest.h>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>

#include "actors/metrics.hpp"
#include "net/redis_feed.hpp"

using namespace tickgate;
using namespace tickgate::net;
using namespace std::chrono_literals;

namespace {

// Calls are made synchronously by the feed in these tests: no waiting needed.
class fake_port : public redis_port {
public:
  std::vector<std::string> calls;

  void start(redis_listener*) override { calls.push_back("START"); }
  void stop() override {}
  void subscribe(std::vector<std::string> c) override { record("SUBSCRIBE", c); }
  void unsubscribe(std::vector<std::string> c) override { record("UNSUBSCRIBE", c); }
  void psubscribe(std::vector<std::string> p) override { record("PSUBSCRIBE", p); }
  void publish(std::vector<std::pair<std::string, std::string>> m) override {
    std::vector<std::string> flat;
    for (auto& [ch, payload] : m)
      flat.push_back(ch + "=" + payload);
    record("PUBLISH", flat);
  }

private:
  void record(const char* verb, const std::vector<std::string>& args) {
    std::string s = verb;
    for (auto& a : args)
      s += " " + a;
    calls.push_back(s);
  }
};

struct redis_feed_with_fake_link : ::testing::Test {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor owner{sys};
  std::shared_ptr<fake_port> port = std::make_shared<fake_port>();
  std::unique_ptr<redis_feed> feed;

  void start(redis_feed_settings s = {}) {
    feed = std::make_unique<redis_feed>(std::move(s), port);
    feed->start(feed_reports{caf::actor{owner}});
  }

  // The next report to the owner, as text.
  std::string next_report() {
    std::string out = "<none>";
    owner->receive(
      [&](link_atom, bool up, const std::string& reason) {
        out = up ? "up" : "down: " + reason;
      },
      [&](subscribed_atom, const std::vector<std::string>& names) {
        out = "confirmed";
        for (auto& n : names)
          out += " " + n;
      },
      [&](deliver_atom, const publication_batch& batch) {
        out = "deliver";
        for (auto& p : batch)
          out += " " + p->topic;
      },
      caf::after(std::chrono::seconds(3)) >> [] {});
    return out;
  }

  static publication_ptr pub(std::string topic, std::string payload) {
    auto p = std::make_shared<publication>();
    p->topic = std::move(topic);
    p->payload = std::move(payload);
    return p;
  }
};

} // namespace

TEST_F(redis_feed_with_fake_link, subscribes_a_followed_topics_channel_and_confirms_it_when_redis_does) {
  start();
  feed->on_link(true, "");
  EXPECT_EQ(next_report(), "up");
  EXPECT_FALSE(feed->follow("trade@AAPL"));
  EXPECT_EQ(port->calls.back(), "SUBSCRIBE trade@AAPL trade@AAPL#snapshot trade@AAPL#event");
  feed->on_subscribed("trade@AAPL", false);
  EXPECT_EQ(next_report(), "confirmed trade@AAPL");
}

TEST_F(redis_feed_with_fake_link, two_topics_sharing_a_channel_share_its_subscription) {
  redis_feed_settings s;
  ASSERT_FALSE(channel_map::parse({"{s}@a -> ch:{s}", "{s}@b -> ch:{s}"}, s.mapping));
  start(std::move(s));
  feed->on_link(true, "");
  EXPECT_FALSE(feed->follow("x@a"));
  EXPECT_FALSE(feed->follow("x@b")); // confirmed together with the channel
  feed->on_subscribed("ch:x", false);
  EXPECT_EQ(next_report(), "up");
  EXPECT_EQ(next_report(), "confirmed x@a x@b");
  feed->unfollow("x@a");
  EXPECT_EQ(port->calls.back(), "SUBSCRIBE ch:x ch:x#snapshot ch:x#event");
  feed->unfollow("x@b");
  EXPECT_EQ(port->calls.back(), "UNSUBSCRIBE ch:x ch:x#snapshot ch:x#event");
}

TEST_F(redis_feed_with_fake_link, resubscribes_every_followed_channel_after_a_reconnect) {
  start();
  EXPECT_FALSE(feed->follow("x"));
  EXPECT_EQ(port->calls, std::vector<std::string>{"START"}); // down: nothing sent yet
  feed->on_link(false, "connection refused");
  EXPECT_EQ(next_report(), "down: redis unavailable: connection refused");
  feed->on_link(true, "");
  EXPECT_EQ(port->calls.back(), "SUBSCRIBE x x#snapshot x#event");
  feed->on_subscribed("x", false);
  feed->on_link(false, "connection lost");
  feed->on_subscribed("x", false); // from before the loss: ignored
  feed->on_link(true, "");
  EXPECT_EQ(port->calls.back(), "SUBSCRIBE x x#snapshot x#event");
  EXPECT_EQ(next_report(), "up");
  EXPECT_EQ(next_report(), "confirmed x");
  EXPECT_EQ(next_report(), "down: redis unavailable: connection lost");
  EXPECT_EQ(next_report(), "up");
}

TEST_F(redis_feed_with_fake_link, channels_covered_by_a_pattern_get_no_subscribe_of_their_own) {
  redis_feed_settings s;
  s.patterns = {"channel:trade:*"};
  ASSERT_FALSE(channel_map::parse({"trade@{s} -> channel:trade:{s}"}, s.mapping));
  start(std::move(s));
  feed->on_link(true, "");
  EXPECT_EQ(port->calls.back(), "PSUBSCRIBE channel:trade:*");
  EXPECT_FALSE(feed->follow("trade@Z"));
  feed->on_subscribed("channel:trade:*", true);
  EXPECT_TRUE(feed->follow("trade@Y")); // the pattern already delivers it
  EXPECT_FALSE(feed->follow("ticker@Z"));
  EXPECT_EQ(port->calls.back(), "SUBSCRIBE ticker@Z ticker@Z#snapshot ticker@Z#event");
  EXPECT_EQ(next_report(), "up");
  EXPECT_EQ(next_report(), "confirmed trade@Z");
}

TEST_F(redis_feed_with_fake_link, turns_redis_messages_into_publications_and_drops_oversize_ones) {
  redis_feed_settings s;
  s.max_payload_bytes = 10;
  ASSERT_FALSE(channel_map::parse({"trade@{s} -> channel:trade:{s}"}, s.mapping));
  start(std::move(s));
  auto oversize_before = node_metrics().bridge_oversize.load();
  redis_batch batch{{"channel:trade:A", R"({"p":1})"},
                    {"channel:trade:A", "01234567890"},
                    {"other", std::string("\xff", 1)}};
  feed->on_messages(batch);
  publication_batch got;
  owner->receive([&](deliver_atom, const publication_batch& pubs) { got = pubs; },
                 caf::after(std::chrono::seconds(3)) >> [] {});
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0]->topic, "trade@A");
  EXPECT_EQ(got[0]->kind, payload_kind::json);
  EXPECT_EQ(got[1]->topic, "other");
  EXPECT_EQ(got[1]->kind, payload_kind::binary);
  EXPECT_EQ(node_metrics().bridge_oversize.load(), oversize_before + 1);
}

TEST_F(redis_feed_with_fake_link, publishes_with_channel_names_and_drops_while_down) {
  redis_feed_settings s;
  ASSERT_FALSE(channel_map::parse({"trade@{s} -> channel:trade:{s}"}, s.mapping));
  start(std::move(s));
  auto dropped_before = node_metrics().bridge_publish_dropped.load();
  EXPECT_EQ(feed->publish({pub("trade@A", "1")}), publish_outcome::upstream);
  EXPECT_EQ(port->calls.back(), "START");
  feed->on_link(true, "");
  feed->publish({pub("trade@A", "2"), pub("x", "3")});
  EXPECT_EQ(port->calls.back(), "PUBLISH channel:trade:A=2 x=3");
  EXPECT_EQ(node_metrics().bridge_publish_dropped.load(), dropped_before + 1);
}

TEST_F(redis_feed_with_fake_link, without_a_snapshot_suffix_a_channel_has_no_twin) {
  redis_feed_settings s;
  s.snapshot_suffix.clear();
  start(std::move(s));
  feed->on_link(true, "");
  feed->follow("x");
  EXPECT_EQ(port->calls.back(), "SUBSCRIBE x x#event");
  feed->unfollow("x");
  EXPECT_EQ(port->calls.back(), "UNSUBSCRIBE x x#event");
  redis_batch batch{{"x#snapshot", "1"}};
  feed->on_messages(batch);
  EXPECT_EQ(next_report(), "up");
  EXPECT_EQ(next_report(), "deliver x#snapshot"); // an ordinary channel name then
}

TEST_F(redis_feed_with_fake_link, a_message_on_the_snapshot_twin_is_a_snapshot_of_the_topic) {
  redis_feed_settings s;
  ASSERT_FALSE(channel_map::parse({"depth@{s} -> book:{s}"}, s.mapping));
  start(std::move(s));
  redis_batch batch{{"book:A#snapshot", R"({"b":[]})"},
                    {"book:A", R"({"d":1})"},
                    {"#snapshot", "2"}}; // nothing before the suffix: no twin
  feed->on_messages(batch);
  publication_batch got;
  owner->receive([&](deliver_atom, const publication_batch& pubs) { got = pubs; },
                 caf::after(std::chrono::seconds(3)) >> [] {});
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0]->topic, "depth@A");
  EXPECT_TRUE(got[0]->snapshot);
  EXPECT_EQ(got[0]->payload, R"({"b":[]})");
  EXPECT_EQ(got[1]->topic, "depth@A");
  EXPECT_FALSE(got[1]->snapshot);
  EXPECT_EQ(got[2]->topic, "#snapshot");
  EXPECT_FALSE(got[2]->snapshot);
}

TEST_F(redis_feed_with_fake_link, publishes_snapshots_on_the_twin_channel) {
  redis_feed_settings s;
  s.snapshot_suffix = "!full";
  ASSERT_FALSE(channel_map::parse({"depth@{s} -> book:{s}"}, s.mapping));
  start(std::move(s));
  feed->on_link(true, "");
  auto snap = std::make_shared<publication>(*pub("depth@A", "1"));
  snap->snapshot = true;
  feed->publish({snap, pub("depth@A", "2")});
  EXPECT_EQ(port->calls.back(), "PUBLISH book:A!full=1 book:A=2");
}

TEST_F(redis_feed_with_fake_link, patterns_not_ending_in_a_star_get_a_twin_pattern) {
  redis_feed_settings s;
  s.patterns = {"book:*", "trade:?", "x[*]"};
  start(std::move(s));
  feed->on_link(true, "");
  EXPECT_EQ(port->calls.back(), "PSUBSCRIBE book:* trade:? x[*] trade:?#snapshot x[*]#snapshot trade:?#event x[*]#event");
  // Confirming a twin pattern confirms nothing of its own.
  feed->on_subscribed("trade:?#snapshot", true);
  EXPECT_EQ(next_report(), "up");
  EXPECT_EQ(next_report(), "<none>");
  EXPECT_TRUE(glob_match("trade:?" + glob_escape("#sn*p"), "trade:A#sn*p"));
  EXPECT_FALSE(glob_match("trade:?" + glob_escape("#sn*p"), "trade:A#snap"));
}

TEST_F(redis_feed_with_fake_link, publishes_named_publications_in_an_envelope_on_the_event_twin) {
  redis_feed_settings s;
  ASSERT_FALSE(channel_map::parse({"depth@{s} -> book:{s}"}, s.mapping));
  start(std::move(s));
  feed->on_link(true, "");
  auto named = std::make_shared<publication>(*pub("depth@A", "1"));
  named->event = "book.reset";
  named->snapshot = true;
  feed->publish({pub("depth@A", "0"), named});
  EXPECT_EQ(port->calls.back(),
            "PUBLISH book:A=0 book:A#event={\"event\":\"book.reset\",\"snapshot\":true}\n1");
}

TEST_F(redis_feed_with_fake_link, a_message_on_the_event_twin_carries_its_name_or_is_dropped) {
  redis_feed_settings s;
  ASSERT_FALSE(channel_map::parse({"depth@{s} -> book:{s}"}, s.mapping));
  start(std::move(s));
  auto bad_before = node_metrics().bridge_bad_envelope.load();
  redis_batch batch{{"book:A#event", "{\"event\":\"order.new\"}\n{\"id\":1}"},
                    {"book:A#event", R"({"id":2})"}, // no header line
                    {"book:A", R"({"id":3})"}};
  feed->on_messages(batch);
  publication_batch got;
  owner->receive([&](deliver_atom, const publication_batch& pubs) { got = pubs; },
                 caf::after(std::chrono::seconds(3)) >> [] {});
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0]->topic, "depth@A");
  EXPECT_EQ(got[0]->event, "order.new");
  EXPECT_EQ(got[0]->payload, R"({"id":1})");
  EXPECT_EQ(got[0]->kind, payload_kind::json);
  EXPECT_FALSE(got[0]->snapshot);
  EXPECT_EQ(got[1]->event, "");
  EXPECT_EQ(got[1]->payload, R"({"id":3})");
  EXPECT_EQ(node_metrics().bridge_bad_envelope.load(), bad_before + 1);
}
