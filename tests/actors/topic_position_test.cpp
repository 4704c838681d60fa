// The topic actor with positions carried by its feed (a cluster topic homed
// on another node): what a subscriber sees when carried positions continue,
// repeat, skip or change epoch, and what the feed's position reports do to
// attaches and to the topic's epoch.
#include <optional>

#include <gtest/gtest.h>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include "actors/metrics.hpp"
#include "actors/topic_actor.hpp"
#include "support/fake_sink.hpp"

using namespace tickgate;
using namespace std::chrono_literals;
using tickgate::test::fake_sink;

namespace {

struct topic_position_test : ::testing::Test {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  // Plays the subscriber's connection (attached replies come here) and the
  // topic's feed; one sender, so the topic sees its messages in order.
  std::optional<caf::scoped_actor> driver_{std::in_place, sys};
  caf::scoped_actor& driver = *driver_;
  std::shared_ptr<fake_sink> sink = std::make_shared<fake_sink>();
  routing_settings settings;
  caf::actor topic;

  void SetUp() override {
    settings.node_id = "local";
    settings.topic_idle_grace = 1h; // the topic outlives the test
    settings.history.fallback = history_limits{100, 1h};
  }

  void TearDown() override {
    if (topic)
      caf::anon_send(topic, stop_atom_v);
    driver_.reset(); // a scoped actor counts as running until it is destroyed
    sys.await_all_actors_done();
  }

  // A topic named "t" in its own epoch "local-1"; `feeds` > 0: it awaits them.
  void spawn_topic(size_t feeds) {
    topic = sys.spawn(topic_actor, std::string{"t"}, std::string{"local-1"}, caf::actor{},
                      settings, feeds, uint64_t{0});
  }

  subscriber me() const {
    subscriber s;
    s.conn = caf::actor_cast<connection_actor_type>(driver.ptr());
    s.sink = sink;
    s.format = wire_format::json;
    return s;
  }

  void attach(uint64_t req) { driver->send(topic, attach_atom_v, req, me()); }

  // The topic's reply to an attach.
  std::optional<topic_position> attached(uint64_t req) {
    std::optional<topic_position> out;
    driver->receive(
      [&](attached_atom, uint64_t r, const std::string&, const caf::actor&,
          const topic_position& pos) {
        EXPECT_EQ(r, req);
        out = pos;
      },
      caf::after(5s) >> [] {});
    return out;
  }

  // Attaches in the serving phase and goes live (the ack went out).
  topic_position subscribe() {
    attach(1);
    auto pos = attached(1);
    EXPECT_TRUE(pos);
    driver->send(topic, release_atom_v, caf::actor_cast<caf::actor>(driver.ptr()));
    return pos.value_or(topic_position{});
  }

  void publish(std::string payload, std::string epoch = {}, uint64_t seq = 0) {
    auto p = std::make_shared<publication>();
    p->topic = "t";
    p->payload = std::move(payload);
    p->ts_us = now_us();
    p->epoch = std::move(epoch);
    p->seq = seq;
    driver->send(topic, route_atom_v, publication_ptr{p});
  }

  void feed_position(const std::string& epoch, uint64_t seq) {
    driver->send(topic, feed_atom_v, true, std::string{}, epoch, seq);
  }

  history_reply history_since(std::optional<stream_position> since) {
    history_query q;
    q.topic = "t";
    q.what = history_query::kind::since;
    q.since = std::move(since);
    history_reply out;
    driver->request(topic, 5s, history_atom_v, q)
      .receive([&](history_reply& r) { out = std::move(r); },
               [&](caf::error& err) { ADD_FAILURE() << caf::to_string(err); });
    return out;
  }

  // Waits for `n` frames in all and returns the ones from `from` on.
  std::vector<std::string> frames(size_t n, size_t from = 0) {
    EXPECT_TRUE(sink->wait_for_frames(n));
    auto all = sink->frames();
    EXPECT_EQ(all.size(), n);
    return {all.begin() + static_cast<std::ptrdiff_t>(std::min(from, all.size())), all.end()};
  }

  // The start of an event frame, up to its timestamp.
  static std::string event(uint64_t seq, const std::string& epoch) {
    return R"({"type":"event","topic":"t","seq":)" + std::to_string(seq) + R"(,"epoch":")"
           + epoch + R"(",)";
  }

  static constexpr std::string_view reset_prefix = R"({"type":"reset","topic":"t","epoch":")";

  static std::string reset(const std::string& epoch) {
    return std::string{reset_prefix} + epoch + R"("})";
  }

  static bool is_event(const std::string& frame, uint64_t seq, const std::string& epoch,
                       const std::string& data) {
    return frame.rfind(event(seq, epoch), 0) == 0
           && frame.find(R"("data":)" + data + "}") != std::string::npos;
  }
};

} // namespace

TEST_F(topic_position_test, carried_positions_reach_the_subscriber_after_a_reset_to_their_epoch) {
  spawn_topic(0);
  EXPECT_EQ(subscribe().epoch, "local-1");
  publish("5", "home-E", 5);
  publish("6", "home-E", 6);
  publish("7", "home-E", 7);
  auto f = frames(4);
  EXPECT_EQ(f[0], reset("home-E"));
  EXPECT_TRUE(is_event(f[1], 5, "home-E", "5")) << f[1];
  EXPECT_TRUE(is_event(f[2], 6, "home-E", "6")) << f[2];
  EXPECT_TRUE(is_event(f[3], 7, "home-E", "7")) << f[3];
}

TEST_F(topic_position_test, a_duplicate_is_dropped_and_counted) {
  spawn_topic(0);
  subscribe();
  publish("5", "E", 5);
  publish("6", "E", 6);
  frames(3);
  auto duplicates = node_metrics().cluster_duplicates.load();
  publish("again", "E", 6);
  publish("older", "E", 5);
  publish("7", "E", 7); // the next one in line is delivered
  auto f = frames(4, 3);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_TRUE(is_event(f[0], 7, "E", "7")) << f[0];
  EXPECT_EQ(node_metrics().cluster_duplicates.load(), duplicates + 2);
}

TEST_F(topic_position_test, a_gap_in_carried_positions_sends_a_reset) {
  spawn_topic(0);
  subscribe();
  publish("5", "E", 5);
  publish("9", "E", 9);
  auto f = frames(4);
  EXPECT_TRUE(is_event(f[1], 5, "E", "5")) << f[1];
  EXPECT_EQ(f[2], reset("E"));
  EXPECT_TRUE(is_event(f[3], 9, "E", "9")) << f[3];
  // Events 6-8 were never here: a client at 5 cannot be made whole.
  auto h = history_since(stream_position{"E", 5});
  EXPECT_FALSE(h.recovered);
  EXPECT_EQ(h.seq, 9u);
}

TEST_F(topic_position_test, another_epoch_sends_a_reset_and_drops_the_old_epochs_history) {
  spawn_topic(0);
  subscribe();
  publish("1", "E", 1);
  publish("2", "E", 2);
  frames(3);
  auto before = history_since(stream_position{"E", 1});
  EXPECT_TRUE(before.recovered);
  ASSERT_EQ(before.events.size(), 1u);
  EXPECT_EQ(before.events[0].seq, 2u);

  publish("100", "F", 1);
  auto f = frames(5, 3);
  EXPECT_EQ(f[0], reset("F"));
  EXPECT_TRUE(f[1].rfind(event(1, "F"), 0) == 0) << f[1];

  auto after = history_since(stream_position{"E", 1});
  EXPECT_FALSE(after.recovered);
  EXPECT_EQ(after.epoch, "F");
  EXPECT_EQ(after.seq, 1u);
  EXPECT_TRUE(after.events.empty());
  auto everything = history_since(std::nullopt);
  ASSERT_EQ(everything.events.size(), 1u); // only F's event is retained
  EXPECT_EQ(everything.events[0].seq, 1u);
  EXPECT_EQ(everything.events[0].pub->payload, "100");
}

TEST_F(topic_position_test, a_feed_position_confirms_a_waiting_attach_at_that_position) {
  spawn_topic(1);
  attach(1);
  feed_position("home-E", 41);
  auto pos = attached(1);
  ASSERT_TRUE(pos);
  EXPECT_EQ(pos->epoch, "home-E");
  EXPECT_EQ(pos->seq, 41u);
  driver->send(topic, release_atom_v, caf::actor_cast<caf::actor>(driver.ptr()));
  publish("42", "home-E", 42);
  // The stream continues where the ack said: no reset, seq 42 next.
  auto f = frames(1);
  EXPECT_TRUE(is_event(f[0], 42, "home-E", "42")) << f[0];
}

TEST_F(topic_position_test, a_feed_without_an_epoch_keeps_the_waiting_topics_own_epoch) {
  spawn_topic(1);
  attach(1);
  feed_position("", 0);
  auto pos = attached(1);
  ASSERT_TRUE(pos);
  EXPECT_EQ(pos->epoch, "local-1");
  EXPECT_EQ(pos->seq, 0u);
  driver->send(topic, release_atom_v, caf::actor_cast<caf::actor>(driver.ptr()));
  publish("7");
  auto f = frames(1);
  EXPECT_TRUE(is_event(f[0], 1, "local-1", "7")) << f[0];
}

TEST_F(topic_position_test, a_serving_topic_told_no_epoch_begins_one_of_its_own) {
  spawn_topic(0);
  subscribe();
  publish("1");
  publish("2");
  frames(2);
  feed_position("", 0); // this node numbers the topic now
  publish("3");
  auto f = frames(4, 2);
  ASSERT_EQ(f[0].rfind(reset_prefix, 0), 0u) << f[0];
  auto epoch = f[0].substr(reset_prefix.size(), f[0].size() - reset_prefix.size() - 2);
  EXPECT_NE(epoch, "local-1");
  EXPECT_EQ(epoch.rfind("local-1", 0), 0u) << epoch; // an epoch of this topic's own
  EXPECT_TRUE(is_event(f[1], 1, epoch, "3")) << f[1];
  auto h = history_since(stream_position{"local-1", 1});
  EXPECT_FALSE(h.recovered);
}

TEST_F(topic_position_test, a_serving_topic_adopts_another_epoch_from_its_feed) {
  spawn_topic(0);
  subscribe();
  publish("1");
  frames(1);
  feed_position("home-E", 10);
  publish("11", "home-E", 11);
  auto f = frames(3, 1);
  EXPECT_EQ(f[0], reset("home-E"));
  EXPECT_TRUE(is_event(f[1], 11, "home-E", "11")) << f[1]; // no second reset
  auto h = history_since(stream_position{"home-E", 10});
  EXPECT_TRUE(h.recovered);
  EXPECT_EQ(h.seq, 11u);
}

namespace {

publication_batch stream_of(const std::string& epoch, uint64_t from, uint64_t to,
                            int64_t age_us = 0) {
  publication_batch out;
  for (auto seq = from; seq <= to; ++seq) {
    auto p = std::make_shared<publication>();
    p->topic = "t";
    p->payload = std::to_string(seq);
    p->ts_us = now_us() - age_us;
    p->epoch = epoch;
    p->seq = seq;
    out.push_back(p);
  }
  return out;
}

} // namespace

TEST_F(topic_position_test, a_position_with_the_upstreams_stream_lets_a_new_topics_first_attach_resume) {
  spawn_topic(1);
  driver->send(topic, feed_atom_v, true, std::string{}, std::string{"E"}, uint64_t{6},
               stream_of("E", 2, 6));
  auto h = history_since(stream_position{"E", 3});
  EXPECT_TRUE(h.recovered);
  EXPECT_EQ(h.epoch, "E");
  EXPECT_EQ(h.seq, 6u);
  ASSERT_EQ(h.events.size(), 3u);
  EXPECT_EQ(h.events[0].seq, 4u);
  EXPECT_EQ(h.events[2].pub->payload, "6");
  EXPECT_FALSE(history_since(stream_position{"E", 0}).recovered); // 2..6 only: 1 is missing
  EXPECT_EQ(sink->frames().size(), 0u); // nobody was attached to hear them
}

TEST_F(topic_position_test, the_upstreams_stream_expires_from_the_history_by_its_publish_time) {
  settings.history.fallback = history_limits{100, 60s};
  spawn_topic(1);
  publication_batch stream = stream_of("E", 1, 1, 120'000'000); // two minutes old
  auto fresh = stream_of("E", 2, 2);
  stream.push_back(fresh[0]);
  driver->send(topic, feed_atom_v, true, std::string{}, std::string{"E"}, uint64_t{2}, stream);
  auto h = history_since(std::nullopt);
  ASSERT_EQ(h.events.size(), 1u);
  EXPECT_EQ(h.events[0].seq, 2u);
}

TEST_F(topic_position_test, a_serving_topic_back_from_an_outage_sends_what_the_stream_says_was_missed) {
  spawn_topic(0);
  subscribe();
  feed_position("E", 2);
  frames(1); // the reset into E
  driver->send(topic, feed_atom_v, false, std::string{"redis unavailable: connection lost"});
  frames(2);
  // Back, with Redis' stream: 2 (had), 3 and 4 (missed).
  driver->send(topic, feed_atom_v, true, std::string{}, std::string{"E"}, uint64_t{4},
               stream_of("E", 2, 4));
  auto f = frames(5, 2);
  ASSERT_EQ(f.size(), 3u);
  EXPECT_NE(f[0].find("feed_up"), std::string::npos) << f[0];
  EXPECT_TRUE(is_event(f[1], 3, "E", "3")) << f[1]; // no reset: nothing lost
  EXPECT_TRUE(is_event(f[2], 4, "E", "4")) << f[2];
  EXPECT_TRUE(history_since(stream_position{"E", 2}).recovered);
}

TEST_F(topic_position_test, a_plain_publication_into_a_carried_stream_takes_an_epoch_of_its_own) {
  spawn_topic(0);
  subscribe();
  feed_position("E", 5);
  publish("plain");  // another publisher's, not numbered upstream
  publish("6", "E", 6);
  auto f = frames(5);
  EXPECT_EQ(f[0], reset("E"));
  ASSERT_EQ(f[1].rfind(reset_prefix, 0), 0u) << f[1];
  auto own = f[1].substr(reset_prefix.size(), f[1].size() - reset_prefix.size() - 2);
  EXPECT_EQ(own.rfind("local-1", 0), 0u) << own;
  EXPECT_TRUE(is_event(f[2], 1, own, "\"plain\"") || is_event(f[2], 1, own, "plain")) << f[2];
  // The upstream's 6 is not a duplicate of the plain event: it is delivered, in E.
  EXPECT_EQ(f[3], reset("E"));
  EXPECT_TRUE(is_event(f[4], 6, "E", "6")) << f[4];
}

TEST_F(topic_position_test, a_numbered_event_the_topic_had_before_a_plain_one_is_not_delivered_again) {
  spawn_topic(0);
  subscribe();
  publish("12", "E", 12);
  publish("plain"); // own epoch now
  publish("12", "E", 12); // the same event again (held while Redis was read, say)
  publish("13", "E", 13);
  auto f = frames(6);
  EXPECT_EQ(f[0], reset("E"));
  EXPECT_TRUE(is_event(f[1], 12, "E", "12")) << f[1];
  ASSERT_EQ(f[2].rfind(reset_prefix, 0), 0u) << f[2];
  EXPECT_EQ(f[4], reset("E"));
  EXPECT_TRUE(is_event(f[5], 13, "E", "13")) << f[5]; // 12 only once
}
