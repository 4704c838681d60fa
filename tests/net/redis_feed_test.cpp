// The Redis feed against a fake Redis port: which (P/UN)SUBSCRIBEs and
// PUBLISHes it sends for the topics it follows, and what it reports to its
// feed actor (here a scoped actor) for Redis' confirmations and messages.

#include <gtest/gtest.h>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>

#include "actors/metrics.hpp"
#include "net/redis_feed.hpp"
#include "proto/event_envelope.hpp"

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

  void publish_commands(std::vector<std::vector<std::string>> commands) override {
    for (auto& c : commands)
      record("COMMAND", c);
  }
  // Answered by the test (answer()), as the link would later on its thread.
  void query(std::vector<std::string> args, query_done done) override {
    record("QUERY", args);
    queries.push_back(std::move(done));
  }
  std::vector<query_done> queries;

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
        for (auto& p : batch) {
          out += " " + p->topic;
          if (p->seq != 0)
            out += ":" + p->epoch + ":" + std::to_string(p->seq);
        }
      },
      [&](subscribed_atom, const std::string& topic, const std::string& epoch, uint64_t seq,
          const publication_batch& stream) {
        out = "positioned " + topic + " " + epoch + " " + std::to_string(seq) + " [";
        for (auto& p : stream)
          out += " " + std::to_string(p->seq) + "=" + p->payload;
        out += " ]";
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

namespace {

redis_value bulk(std::string s) {
  redis_value v;
  v.what = redis_value::type::string;
  v.str = std::move(s);
  return v;
}

// What the position read answers: epoch, seq, retained messages newest first.
redis_value position_reply(std::string epoch, int64_t seq, std::vector<std::string> newest_first) {
  redis_value v;
  v.what = redis_value::type::array;
  v.elements.push_back(bulk(std::move(epoch)));
  redis_value n;
  n.what = redis_value::type::integer;
  n.integer = seq;
  v.elements.push_back(n);
  redis_value list;
  list.what = redis_value::type::array;
  for (auto& m : newest_first)
    list.elements.push_back(bulk(m));
  v.elements.push_back(list);
  return v;
}

std::string numbered(uint64_t seq, const std::string& epoch, const std::string& payload) {
  return "{\"seq\":" + std::to_string(seq) + ",\"epoch\":\"" + epoch + "\""
         + encode_numbered_tail(1'700'000'000'000'000, "", false, payload);
}

redis_feed_settings numbering_on() {
  redis_feed_settings s;
  s.numbering.on = true;
  return s;
}

} // namespace

TEST_F(redis_feed_with_fake_link, numbering_publishes_through_the_script_with_the_channel_keys_and_the_event_twin) {
  auto s = numbering_on();
  s.numbering.key_prefix = "tg:";
  ASSERT_FALSE(channel_map::parse({"depth@{s} -> book:{s}"}, s.mapping));
  start(std::move(s));
  feed->on_link(true, "");
  auto named = std::make_shared<publication>(*pub("depth@A", "{}"));
  named->event = "book.reset";
  named->ts_us = 42;
  feed->publish({named});
  auto& call = port->calls.back();
  ASSERT_EQ(call.rfind("COMMAND EVAL ", 0), 0u) << call;
  EXPECT_NE(call.find(" 2 tg:pos:{book:A} tg:stream:{book:A} "), std::string::npos) << call;
  EXPECT_NE(call.find(R"(,"ts":42,"event":"book.reset"})" "\n{} 100 300 book:A#event"),
            std::string::npos)
    << call;
}

TEST_F(redis_feed_with_fake_link, numbering_confirms_a_topic_with_its_redis_position_and_holds_its_messages_until_then) {
  start(numbering_on());
  feed->on_link(true, "");
  EXPECT_EQ(next_report(), "up");
  EXPECT_FALSE(feed->follow("x"));
  feed->on_subscribed("x", false);
  ASSERT_EQ(port->queries.size(), 1u);
  EXPECT_NE(port->calls.back().find(" 2 tickgate:pos:{x} tickgate:stream:{x} "), std::string::npos);
  EXPECT_EQ(next_report(), "<none>"); // not confirmed before its position is known
  // Published after the SUBSCRIBE: 7 is also in the read's answer, 8 is not.
  redis_batch early{{"x#event", numbered(7, "E1", "7")}, {"x#event", numbered(8, "E1", "8")},
                    {"y", "other channel"}};
  feed->on_messages(early);
  EXPECT_EQ(next_report(), "deliver y"); // not held: not being read
  port->queries[0](position_reply("E1", 7, {numbered(7, "E1", "7"), numbered(6, "E1", "6")}), "");
  EXPECT_EQ(next_report(), "positioned x E1 7 [ 6=6 7=7 ]");
  EXPECT_EQ(next_report(), "deliver x:E1:7 x:E1:8"); // the topic drops 7, which it has
  redis_batch later{{"x#event", numbered(9, "E1", "9")}, {"x", "plain"}};
  feed->on_messages(later);
  EXPECT_EQ(next_report(), "deliver x:E1:9 x");
}

TEST_F(redis_feed_with_fake_link, numbering_reads_again_after_a_reconnect_and_ignores_an_answer_from_before_it) {
  start(numbering_on());
  feed->on_link(true, "");
  EXPECT_EQ(next_report(), "up");
  feed->follow("x");
  feed->on_subscribed("x", false);
  redis_batch held{{"x#event", numbered(3, "E1", "3")}};
  feed->on_messages(held);
  feed->on_link(false, "connection lost");
  EXPECT_EQ(next_report(), "down: redis unavailable: connection lost");
  port->queries[0](std::nullopt, ""); // freed with the connection
  feed->on_link(true, "");
  EXPECT_EQ(next_report(), "up");
  feed->on_subscribed("x", false);
  ASSERT_EQ(port->queries.size(), 2u);
  port->queries[1](position_reply("E1", 5, {numbered(5, "E1", "5"), numbered(4, "E1", "4")}), "");
  EXPECT_EQ(next_report(), "positioned x E1 5 [ 4=4 5=5 ]");
  EXPECT_EQ(next_report(), "<none>"); // what was held before the loss is gone with it
}

TEST_F(redis_feed_with_fake_link, numbering_falls_back_to_the_nodes_own_positions_when_redis_refuses_the_read) {
  start(numbering_on());
  feed->on_link(true, "");
  EXPECT_EQ(next_report(), "up");
  feed->follow("x");
  feed->on_subscribed("x", false);
  auto failures = node_metrics().bridge_position_failures.load();
  port->queries[0](std::nullopt, "WRONGTYPE Operation against a key holding the wrong kind of value");
  EXPECT_EQ(next_report(), "confirmed x");
  EXPECT_EQ(node_metrics().bridge_position_failures.load(), failures + 1);
}

TEST_F(redis_feed_with_fake_link, numbering_reads_a_topic_added_to_an_already_confirmed_channel) {
  auto s = numbering_on();
  ASSERT_FALSE(channel_map::parse({"{s}@a -> ch:{s}", "{s}@b -> ch:{s}"}, s.mapping));
  start(std::move(s));
  feed->on_link(true, "");
  EXPECT_EQ(next_report(), "up");
  feed->follow("k@a");
  feed->on_subscribed("ch:k", false);
  port->queries[0](position_reply("E", 0, {}), "");
  EXPECT_EQ(next_report(), "positioned k@a E 0 [ ]");
  EXPECT_FALSE(feed->follow("k@b"));
  ASSERT_EQ(port->queries.size(), 2u);
  port->queries[1](position_reply("E", 2, {numbered(2, "E", "2"), numbered(1, "E", "1")}), "");
  EXPECT_EQ(next_report(), "positioned k@b E 2 [ 1=1 2=2 ]");
}

TEST(redis_numbering, a_position_reply_is_epoch_seq_and_messages_and_anything_else_is_refused) {
  std::string error;
  auto pos = parse_position_reply(position_reply("E", 2, {"b", "a"}), error);
  ASSERT_TRUE(pos) << error;
  EXPECT_EQ(pos->epoch, "E");
  EXPECT_EQ(pos->seq, 2u);
  EXPECT_EQ(pos->messages, (std::vector<std::string>{"a", "b"})); // oldest first
  EXPECT_FALSE(parse_position_reply(bulk("OK"), error));
  EXPECT_FALSE(parse_position_reply(position_reply("", 2, {}), error));
  EXPECT_FALSE(parse_position_reply(position_reply("E", -1, {}), error));
  auto odd = position_reply("E", 1, {});
  odd.elements[2].elements.push_back(redis_value{}); // nil where a message belongs
  EXPECT_FALSE(parse_position_reply(odd, error));
  EXPECT_NE(new_redis_epoch(), new_redis_epoch());
  EXPECT_EQ(new_redis_epoch().size(), 16u);
}

TEST_F(redis_feed_with_fake_link, numbering_ignores_a_read_for_a_channel_unfollowed_and_followed_again_since) {
  start(numbering_on());
  feed->on_link(true, "");
  EXPECT_EQ(next_report(), "up");
  feed->follow("x");
  feed->on_subscribed("x", false);
  ASSERT_EQ(port->queries.size(), 1u);
  feed->unfollow("x");
  EXPECT_FALSE(feed->follow("x")); // subscribed anew: not confirmed before Redis says so
  port->queries[0](position_reply("E", 1, {}), "");
  EXPECT_EQ(next_report(), "<none>");
  feed->on_subscribed("x", false);
  ASSERT_EQ(port->queries.size(), 2u);
  port->queries[1](position_reply("E", 1, {}), "");
  EXPECT_EQ(next_report(), "positioned x E 1 [ ]");
}

TEST_F(redis_feed_with_fake_link, numbering_holds_at_most_its_bound_of_messages_during_a_read) {
  start(numbering_on());
  feed->on_link(true, "");
  EXPECT_EQ(next_report(), "up");
  feed->follow("x");
  feed->on_subscribed("x", false);
  auto dropped = node_metrics().bridge_held_dropped.load();
  redis_batch flood;
  for (size_t i = 1; i <= max_held_messages + 5; ++i)
    flood.push_back({"x#event", numbered(i, "E", std::to_string(i))});
  feed->on_messages(flood);
  EXPECT_EQ(node_metrics().bridge_held_dropped.load(), dropped + 5);
  port->queries[0](position_reply("E", 0, {}), "");
  EXPECT_EQ(next_report(), "positioned x E 0 [ ]");
  publication_batch got;
  owner->receive([&](deliver_atom, const publication_batch& pubs) { got = pubs; },
                 caf::after(std::chrono::seconds(3)) >> [] {});
  ASSERT_EQ(got.size(), max_held_messages);
  EXPECT_EQ(got.back()->seq, max_held_messages);
}
