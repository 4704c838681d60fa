// Topic history against the real binary: resuming with `since` while the
// publisher keeps going, the cases that cannot be recovered, history that
// outlives its last subscriber for its TTL, the byte cap, `last` and
// `snapshot` with an order book, throttling, protobuf, and bad options.

#include <atomic>
#include <map>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "support/json_fields.hpp"
#include "support/node_process.hpp"
#include "support/ws_client.hpp"
#include "tickgate.pb.h"

using namespace std::chrono_literals;
using namespace tickgate::test;

namespace {

using clock_type = std::chrono::steady_clock;

bool is_type(const ws_message& m, const char* type) {
  return !m.binary && json_string(m.data, "type") == type;
}

std::string quoted_list(const std::vector<std::string>& topics) {
  std::string out = "[";
  for (auto& t : topics)
    out += (out.size() > 1 ? ",\"" : "\"") + t + "\"";
  return out + "]";
}

// Sends a native subscribe with `options` (JSON members, each with a leading
// comma) and returns the first frame that comes back, which must be its ack.
std::string subscribe(ws_client& c, uint64_t id, const std::vector<std::string>& topics,
                      const std::string& options = "") {
  c.send_text(R"({"op":"subscribe","id":)" + std::to_string(id) + R"(,"topics":)"
              + quoted_list(topics) + options + "}");
  auto m = c.read();
  if (!m)
    return "<no reply>";
  return m->data;
}

// One `since` entry.
std::string since_entry(const std::string& topic, const std::string& epoch, uint64_t seq) {
  return "\"" + topic + R"(":{"epoch":")" + epoch + R"(","seq":)" + std::to_string(seq) + "}";
}

std::string position(const std::string& ack, const std::string& topic) {
  return json_field(json_field(ack, "positions").c_str(), topic.c_str());
}

std::string epoch_at(const std::string& ack, const std::string& topic) {
  return json_string(position(ack, topic), "epoch");
}

uint64_t seq_at(const std::string& ack, const std::string& topic) {
  return std::stoull(json_field(position(ack, topic), "seq"));
}

std::string recovered(const std::string& ack, const std::string& topic) {
  return json_field(json_field(ack, "recovered").c_str(), topic.c_str());
}

uint64_t seq_of(const std::string& event) {
  return std::stoull(json_field(event, "seq"));
}

int publish(uint16_t port, const std::string& topic, const std::string& data,
            bool snapshot = false) {
  return http_request(port, "POST", "/api/publish",
                      R"({"topic":")" + topic + "\"" + (snapshot ? R"(,"snapshot":true)" : "")
                        + R"(,"data":)" + data + "}")
    .status;
}

// Publishes `n` events {"k":1}..{"k":n} on `topic` in one request.
int publish_burst(uint16_t port, const std::string& topic, int n) {
  std::string body = "[";
  for (int k = 1; k <= n; ++k)
    body += std::string{k > 1 ? "," : ""} + R"({"topic":")" + topic + R"(","data":{"k":)"
            + std::to_string(k) + "}}";
  return http_request(port, "POST", "/api/publish", body + "]").status;
}

std::optional<ws_message> next_event(ws_client& c, std::chrono::milliseconds t = 5000ms) {
  return c.read_until([](const ws_message& m) { return is_type(m, "event"); }, t);
}

// The next `n` events, or fewer if they do not come.
std::vector<std::string> events(ws_client& c, size_t n) {
  std::vector<std::string> out;
  while (out.size() < n) {
    auto m = next_event(c);
    if (!m)
      break;
    out.push_back(m->data);
  }
  return out;
}

std::vector<uint64_t> seqs(const std::vector<std::string>& evs) {
  std::vector<uint64_t> out;
  for (auto& e : evs)
    out.push_back(seq_of(e));
  return out;
}

int ctl(const node_process& node, const std::string& args) {
  auto cmd = tickgate_binary() + "ctl --node 127.0.0.1:" + std::to_string(node.admin_port()) + " "
             + args + " > /dev/null 2>&1";
  auto status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

double recoveries(uint16_t port, const char* result) {
  return node_metric(port, std::string{R"(tickgate_recoveries_total{result=")"} + result + "\"}");
}

} // namespace

TEST(recovery, a_client_resuming_20_topics_while_publishing_continues_gets_every_event_once_in_order) {
  node_process node({"--history.size=20000"});
  constexpr int topic_count = 20;
  constexpr int max_rounds = 10000;
  std::vector<std::string> topics;
  for (int t = 0; t < topic_count; ++t)
    topics.push_back("r" + std::to_string(t));

  auto first = std::make_unique<ws_client>(node.port());
  auto ack = subscribe(*first, 1, topics);
  ASSERT_TRUE(is_type({ack}, "ack")) << ack;
  std::map<std::string, std::string> epoch;
  for (auto& t : topics) {
    epoch[t] = epoch_at(ack, t);
    ASSERT_EQ(seq_at(ack, t), 0u) << t;
  }

  // Round k publishes {"k":k} on every topic in one request, so on each topic
  // the k-th event is seq k.
  std::atomic<bool> stop{false};
  std::atomic<int> rounds{0};
  std::atomic<bool> failed{false};
  std::thread publisher([&] {
    for (int k = 1; k <= max_rounds && !stop; ++k) {
      std::string body = "[";
      for (auto& t : topics)
        body += std::string{body.size() > 1 ? "," : ""} + R"({"topic":")" + t
                + R"(","data":{"k":)" + std::to_string(k) + "}}";
      if (http_request(node.port(), "POST", "/api/publish", body + "]").status != 200) {
        failed = true;
        return;
      }
      rounds = k;
      std::this_thread::sleep_for(1ms);
    }
  });
  auto finish = [&] {
    stop = true;
    if (publisher.joinable())
      publisher.join();
  };

  // Events of one topic must continue `last` exactly: seq and payload counter.
  std::map<std::string, uint64_t> last;
  auto take = [&](const std::string& ev) {
    auto t = json_string(ev, "topic");
    auto seq = seq_of(ev);
    EXPECT_EQ(seq, last[t] + 1) << t << ": " << ev;
    EXPECT_EQ(json_field(ev, "data"), "{\"k\":" + std::to_string(seq) + "}") << ev;
    EXPECT_EQ(json_string(ev, "epoch"), epoch[t]) << ev;
    last[t] = seq;
  };
  for (int n = 0; n < topic_count * 50; ++n) {
    auto m = next_event(*first);
    if (!m) {
      finish();
      FAIL() << "the first connection stopped receiving after " << n << " events";
    }
    take(m->data);
  }
  first.reset(); // gone without a goodbye
  uint64_t seen = 0;
  for (auto& [t, s] : last)
    seen = std::max(seen, s);
  // Events published while nobody listens.
  EXPECT_TRUE(eventually([&] { return rounds.load() >= static_cast<int>(seen) + 100 || failed; }));

  ws_client second{node.port()};
  std::string since;
  for (auto& t : topics)
    since += (since.empty() ? "" : ",") + since_entry(t, epoch[t], last[t]);
  ack = subscribe(second, 2, topics, R"(,"since":{)" + since + "}");
  if (!is_type({ack}, "ack")) {
    finish();
    FAIL() << "the resubscribe's first frame is not its ack: " << ack;
  }
  uint64_t at_ack = 0;
  for (auto& t : topics) {
    EXPECT_EQ(recovered(ack, t), "true") << t;
    EXPECT_EQ(epoch_at(ack, t), epoch[t]);
    EXPECT_GE(seq_at(ack, t), last[t]);
    at_ack = std::max(at_ack, seq_at(ack, t));
  }
  // Live events after the ack, then the publisher stops.
  EXPECT_TRUE(eventually([&] { return rounds.load() >= static_cast<int>(at_ack) + 100 || failed; }));
  finish();
  ASSERT_FALSE(failed) << "a publish was refused";
  const uint64_t published = rounds.load();
  ASSERT_LT(published, static_cast<uint64_t>(max_rounds)) << "the publisher ran out before the test";

  auto deadline = clock_type::now() + 15s;
  auto done = [&] {
    for (auto& t : topics)
      if (last[t] < published)
        return false;
    return true;
  };
  while (!done() && clock_type::now() < deadline) {
    auto m = next_event(second, 2000ms);
    if (!m)
      break;
    take(m->data);
  }
  for (auto& t : topics)
    EXPECT_EQ(last[t], published) << t;
  // Nothing after the last event: no duplicate at the end either.
  auto extra = second.read(100ms);
  EXPECT_FALSE(extra) << extra->data;
  EXPECT_EQ(recoveries(node.port(), "recovered"), topic_count);
  EXPECT_GE(node_metric(node.port(), "tickgate_history_replayed_total"), topic_count * 100);
}

TEST(recovery, wrong_epoch_too_old_expired_and_restarted_are_not_recovered_and_counted) {
  node_process node({"--history.size=5", R"(--history.rules=["ttl@*=size:100,ttl:300ms"])",
                     "--topic.restart-backoff=50ms"});
  ws_client holder{node.port()};
  auto held = subscribe(holder, 1, {"e@A", "ttl@A"});
  ASSERT_TRUE(is_type({held}, "ack")) << held;
  const auto epoch = epoch_at(held, "e@A");
  for (int i = 1; i <= 20; ++i)
    ASSERT_EQ(publish(node.port(), "e@A", std::to_string(i)), 200);
  ASSERT_EQ(events(holder, 20).size(), 20u);

  // An epoch the topic never had: live events only.
  {
    ws_client c{node.port()};
    auto ack = subscribe(c, 1, {"e@A"}, R"(,"since":{)" + since_entry("e@A", "nope", 18) + "}");
    EXPECT_EQ(recovered(ack, "e@A"), "false") << ack;
    EXPECT_EQ(seq_at(ack, "e@A"), 20u);
    ASSERT_EQ(publish(node.port(), "e@A", "21"), 200);
    auto ev = next_event(c);
    ASSERT_TRUE(ev);
    EXPECT_EQ(seq_of(ev->data), 21u) << "replayed across an epoch change";
    ASSERT_TRUE(next_event(holder));
  }
  // Only the last 5 (17..21) are retained: after 2 is too old, after 17 is not.
  {
    ws_client c{node.port()};
    auto ack = subscribe(c, 1, {"e@A"}, R"(,"since":{)" + since_entry("e@A", epoch, 2) + "}");
    EXPECT_EQ(recovered(ack, "e@A"), "false") << ack;
    EXPECT_FALSE(next_event(c, 200ms)) << "events replayed after a gap";
    ws_client d{node.port()};
    ack = subscribe(d, 1, {"e@A"}, R"(,"since":{)" + since_entry("e@A", epoch, 17) + "}");
    EXPECT_EQ(recovered(ack, "e@A"), "true") << ack;
    EXPECT_EQ(seqs(events(d, 4)), (std::vector<uint64_t>{18, 19, 20, 21}));
  }
  // ttl@A keeps events for 300 ms.
  {
    const auto ttl_epoch = epoch_at(held, "ttl@A");
    for (int i = 1; i <= 3; ++i)
      ASSERT_EQ(publish(node.port(), "ttl@A", std::to_string(i)), 200);
    ASSERT_EQ(events(holder, 3).size(), 3u);
    // The node retained the last event before the holder received it: once
    // the TTL has passed since then, all three are past it.
    auto received = clock_type::now();
    while (clock_type::now() < received + 350ms)
      std::this_thread::sleep_for(10ms);
    ws_client c{node.port()};
    auto ack = subscribe(c, 1, {"ttl@A"},
                         R"(,"since":{)" + since_entry("ttl@A", ttl_epoch, 1) + "}");
    EXPECT_EQ(recovered(ack, "ttl@A"), "false") << ack;
    EXPECT_EQ(seq_at(ack, "ttl@A"), 3u);
    EXPECT_FALSE(next_event(c, 200ms)) << "expired events replayed";
    EXPECT_EQ(node_metric(node.port(), R"(tickgate_history_evictions_total{reason="ttl"})"), 3);
  }
  // A restart begins a new epoch; the old one cannot be resumed.
  {
    ASSERT_EQ(ctl(node, "restart e@A"), 0);
    auto reset = holder.read_until([](const ws_message& m) { return is_type(m, "reset"); });
    ASSERT_TRUE(reset);
    auto new_epoch = json_string(reset->data, "epoch");
    EXPECT_NE(new_epoch, epoch);
    ws_client c{node.port()};
    auto ack = subscribe(c, 1, {"e@A"}, R"(,"since":{)" + since_entry("e@A", epoch, 20) + "}");
    EXPECT_EQ(recovered(ack, "e@A"), "false") << ack;
    EXPECT_EQ(epoch_at(ack, "e@A"), new_epoch);
    EXPECT_EQ(seq_at(ack, "e@A"), 0u);
    ASSERT_EQ(publish(node.port(), "e@A", "1"), 200);
    auto ev = next_event(c);
    ASSERT_TRUE(ev);
    EXPECT_EQ(seq_of(ev->data), 1u);
    EXPECT_EQ(json_string(ev->data, "epoch"), new_epoch);
  }
  EXPECT_EQ(recoveries(node.port(), "recovered"), 1);
  EXPECT_EQ(recoveries(node.port(), "epoch_changed"), 2);
  EXPECT_EQ(recoveries(node.port(), "not_retained"), 2);
}

TEST(recovery, history_outlives_the_last_subscriber_for_its_ttl_and_then_the_topic_stops) {
  node_process node({"--history.ttl=600ms", "--topic.idle-grace=100ms"});
  std::string epoch;
  {
    ws_client c{node.port()};
    auto ack = subscribe(c, 1, {"h@A"});
    epoch = epoch_at(ack, "h@A");
    for (int i = 1; i <= 2; ++i)
      ASSERT_EQ(publish(node.port(), "h@A", std::to_string(i)), 200);
    ASSERT_EQ(events(c, 2).size(), 2u);
  }
  // Nobody listens: the topic still takes these.
  for (int i = 3; i <= 5; ++i)
    ASSERT_EQ(publish(node.port(), "h@A", std::to_string(i)), 200);
  {
    ws_client c{node.port()};
    auto ack = subscribe(c, 1, {"h@A"}, R"(,"since":{)" + since_entry("h@A", epoch, 2) + "}");
    EXPECT_EQ(recovered(ack, "h@A"), "true") << ack;
    EXPECT_EQ(seq_at(ack, "h@A"), 5u);
    auto evs = events(c, 3);
    EXPECT_EQ(seqs(evs), (std::vector<uint64_t>{3, 4, 5}));
    if (evs.size() == 3) {
      EXPECT_EQ(json_field(evs[0], "data"), "3");
    }
  }
  // Idle past the TTL: the topic stops, and with it the epoch.
  EXPECT_TRUE(eventually([&] { return node_metric(node.port(), "tickgate_topics") == 0; }, 5000ms));
  ws_client c{node.port()};
  auto ack = subscribe(c, 1, {"h@A"}, R"(,"since":{)" + since_entry("h@A", epoch, 5) + "}");
  EXPECT_EQ(recovered(ack, "h@A"), "false") << ack;
  EXPECT_EQ(seq_at(ack, "h@A"), 0u);
  EXPECT_FALSE(next_event(c, 200ms));
}

TEST(recovery, the_node_wide_byte_cap_evicts_oldest_and_counts) {
  constexpr int cap = 20000;
  constexpr int payload = 1000;
  node_process node({"--history.max-bytes=" + std::to_string(cap), "--history.size=1000"});
  ws_client holder{node.port()};
  ASSERT_TRUE(is_type({subscribe(holder, 1, {"b@0", "b@1"})}, "ack"));
  const std::string data = "\"" + std::string(payload - 2, 'x') + "\"";
  for (int batch = 0; batch < 4; ++batch) {
    std::string body = "[";
    for (int i = 0; i < 10; ++i)
      for (auto* t : {"b@0", "b@1"})
        body += std::string{body.size() > 1 ? "," : ""} + R"({"topic":")" + t + R"(","data":)"
                + data + "}";
    ASSERT_EQ(http_request(node.port(), "POST", "/api/publish", body + "]").status, 200);
  }
  ASSERT_EQ(events(holder, 80).size(), 80u);
  auto metrics = http_request(node.port(), "GET", "/metrics").body;
  EXPECT_GT(metric_sample(metrics, R"(tickgate_history_evictions_total{reason="max_bytes"})"), 0);
  auto bytes = metric_sample(metrics, "tickgate_history_bytes");
  EXPECT_GT(bytes, 0);
  // Each retained event costs its payload plus some bookkeeping.
  EXPECT_LE(bytes, cap + 2 * payload);
  auto retained = metric_sample(metrics, "tickgate_history_events");
  EXPECT_GT(retained, 0);
  EXPECT_LT(retained, 80);
  EXPECT_LE(retained * payload, cap + 2 * payload);
  // What is left is still served: the newest event of each topic.
  ws_client c{node.port()};
  auto ack = subscribe(c, 1, {"b@1"}, R"(,"last":1)");
  EXPECT_EQ(seq_at(ack, "b@1"), 40u);
  EXPECT_EQ(seqs(events(c, 1)), (std::vector<uint64_t>{40}));
}

namespace {

// An order book side: price -> quantity.
using book = std::map<std::string, int64_t>;

// Applies one event of the book topic: a snapshot {"levels":{"<price>":qty}}
// replaces the book, a delta {"set":"<price>","q":qty} or {"remove":"<price>"}
// changes one level.
void apply_event(book& b, const std::string& event) {
  simdjson::dom::parser parser;
  auto data = json_field(event, "data");
  simdjson::dom::element doc = parser.parse(data);
  simdjson::dom::object o = doc;
  if (json_field(event, "snapshot") == "true") {
    b.clear();
    for (auto [price, qty] : simdjson::dom::object(o["levels"]))
      b[std::string{price}] = int64_t(qty);
  } else if (auto set = o["set"]; !set.error()) {
    b[std::string{std::string_view(set)}] = int64_t(o["q"]);
  } else {
    b.erase(std::string{std::string_view(o["remove"])});
  }
}

std::string snapshot_body(const book& b) {
  std::string levels;
  for (auto& [p, q] : b)
    levels += (levels.empty() ? "\"" : ",\"") + p + "\":" + std::to_string(q);
  return R"({"levels":{)" + levels + "}}";
}

std::string set_level(const std::string& price, int64_t qty) {
  return R"({"set":")" + price + R"(","q":)" + std::to_string(qty) + "}";
}

std::string remove_level(const std::string& price) {
  return R"({"remove":")" + price + "\"}";
}

} // namespace

TEST(recovery, a_book_client_gets_the_snapshot_then_the_deltas_and_last_gives_the_newest_values) {
  node_process node;
  const std::string topic = "depth@BOOK";
  ws_client holder{node.port()};
  ASSERT_TRUE(is_type({subscribe(holder, 1, {topic})}, "ack"));
  book publisher;
  int published = 0;
  auto delta = [&](const std::string& body) {
    ASSERT_EQ(publish(node.port(), topic, body), 200);
    ++published;
    simdjson::dom::parser parser;
    simdjson::dom::object o = parser.parse(body);
    if (auto set = o["set"]; !set.error())
      publisher[std::string{std::string_view(set)}] = int64_t(o["q"]);
    else
      publisher.erase(std::string{std::string_view(o["remove"])});
  };
  // Deltas before the first snapshot are not part of any book a client sees.
  delta(set_level("99.5", 7));
  delta(set_level("100.0", 3));
  delta(remove_level("99.5"));
  publisher = {{"100.0", 4}, {"100.5", 9}, {"101.0", 2}};
  ASSERT_EQ(publish(node.port(), topic, snapshot_body(publisher), true), 200);
  ++published;
  const int snapshot_seq = published;
  delta(set_level("101.5", 6));
  delta(remove_level("100.5"));
  delta(set_level("100.0", 11));
  delta(set_level("99.0", 1));
  delta(remove_level("101.0"));
  ASSERT_EQ(events(holder, published).size(), static_cast<size_t>(published));

  ws_client c{node.port()};
  auto ack = subscribe(c, 1, {topic}, R"(,"snapshot":true)");
  ASSERT_TRUE(is_type({ack}, "ack")) << ack;
  EXPECT_EQ(seq_at(ack, topic), static_cast<uint64_t>(published));
  auto evs = events(c, published - snapshot_seq + 1);
  ASSERT_EQ(evs.size(), static_cast<size_t>(published - snapshot_seq + 1));
  EXPECT_EQ(seq_of(evs[0]), static_cast<uint64_t>(snapshot_seq));
  EXPECT_EQ(json_field(evs[0], "snapshot"), "true") << evs[0];
  book client;
  for (size_t i = 0; i < evs.size(); ++i) {
    EXPECT_EQ(seq_of(evs[i]), snapshot_seq + i);
    if (i > 0) {
      EXPECT_EQ(json_field(evs[i], "snapshot"), "<missing>") << evs[i];
    }
    apply_event(client, evs[i]);
  }
  EXPECT_EQ(client, publisher);
  // Live deltas continue the same book.
  delta(set_level("102.0", 5));
  delta(remove_level("99.0"));
  for (auto& e : events(c, 2))
    apply_event(client, e);
  EXPECT_EQ(client, publisher);
  ASSERT_EQ(events(holder, 2).size(), 2u);

  ws_client recent{node.port()};
  ack = subscribe(recent, 1, {topic}, R"(,"last":3)");
  ASSERT_TRUE(is_type({ack}, "ack")) << ack;
  const uint64_t now = published;
  EXPECT_EQ(seq_at(ack, topic), now);
  EXPECT_EQ(seqs(events(recent, 3)), (std::vector<uint64_t>{now - 2, now - 1, now}));
  delta(set_level("103.0", 1));
  EXPECT_EQ(seqs(events(recent, 1)), (std::vector<uint64_t>{now + 1}));
  EXPECT_FALSE(next_event(recent, 100ms));
}

TEST(recovery, throttle_delivers_the_first_at_once_and_the_newest_after_the_interval) {
  node_process node;
  ws_client c{node.port()};
  ASSERT_TRUE(is_type({subscribe(c, 1, {"th@A"}, R"(,"throttle_ms":100)")}, "ack"));
  // The first event goes out at once. Waiting for it also makes sure the
  // subscription is live before the burst.
  auto sent = clock_type::now();
  ASSERT_EQ(publish(node.port(), "th@A", R"({"k":0})"), 200);
  auto first = next_event(c, 1000ms);
  ASSERT_TRUE(first);
  EXPECT_EQ(seq_of(first->data), 1u);
  // 200 more at once: at most one per interval, the newest (seq 201) last.
  ASSERT_EQ(publish_burst(node.port(), "th@A", 200), 200);
  std::vector<std::string> got;
  clock_type::time_point last_at;
  while (got.empty() || seq_of(got.back()) < 201) {
    auto m = next_event(c, 2000ms);
    if (!m)
      break;
    got.push_back(m->data);
    last_at = clock_type::now();
  }
  ASSERT_FALSE(got.empty());
  ASSERT_EQ(seq_of(got.back()), 201u) << "the newest value was held back";
  EXPECT_EQ(json_field(got.back(), "data"), R"({"k":200})");
  EXPECT_LE(got.size(), 3u) << "throttle_ms bypassed";
  for (size_t i = 1; i < got.size(); ++i)
    EXPECT_GT(seq_of(got[i]), seq_of(got[i - 1]));
  // The first went out after the publish began, the next no earlier than one
  // interval after it.
  EXPECT_GE(last_at - sent, 90ms);
  EXPECT_FALSE(next_event(c, 250ms)) << "more after the newest value";
  EXPECT_EQ(node_metric(node.port(), "tickgate_throttle_conflated_total"),
            200 - static_cast<double>(got.size()));
}

TEST(recovery, a_stream_client_asking_for_100ms_updates_gets_conflated_events) {
  node_process node;
  ws_client c{node.port(), "/stream"};
  c.send_text(R"({"method":"SUBSCRIBE","params":["depth@X@100ms"],"id":1})");
  auto reply = c.read();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->data, R"({"result":null,"id":1})");
  // A first event, at once; then a burst while it counts as sent.
  ASSERT_EQ(publish(node.port(), "depth@X", R"({"k":0})"), 200);
  auto first = c.read(1000ms);
  ASSERT_TRUE(first);
  EXPECT_EQ(json_field(first->data, "data"), R"({"k":0})");
  ASSERT_EQ(publish_burst(node.port(), "depth@X", 200), 200);
  std::vector<int> ks;
  while (ks.empty() || ks.back() < 200) {
    auto m = c.read(2000ms);
    if (!m)
      break;
    EXPECT_EQ(json_string(m->data, "stream"), "depth@X@100ms") << m->data;
    ks.push_back(std::stoi(json_field(json_field(m->data, "data").c_str(), "k")));
  }
  ASSERT_FALSE(ks.empty());
  EXPECT_EQ(ks.back(), 200);
  EXPECT_LE(ks.size(), 3u);
  EXPECT_TRUE(std::is_sorted(ks.begin(), ks.end()));
  EXPECT_FALSE(c.read(250ms));
}

TEST(recovery, protobuf_clients_resume_and_rewind_with_positions_recovered_and_snapshot_marks) {
  node_process node;
  ws_client holder{node.port()};
  auto held = subscribe(holder, 1, {"p@1", "p@2"});
  ASSERT_TRUE(is_type({held}, "ack")) << held;
  for (int i = 1; i <= 5; ++i) {
    ASSERT_EQ(publish(node.port(), "p@1", std::to_string(i)), 200);
    ASSERT_EQ(publish(node.port(), "p@2", std::to_string(i), i == 5), 200);
  }
  ASSERT_EQ(events(holder, 10).size(), 10u);

  ws_client bin{node.port(), "/v1", "tickgate.v1.proto"};
  tickgate::v1::ClientFrame sub;
  sub.set_id(7);
  auto* s = sub.mutable_subscribe();
  s->add_topics("p@1");
  s->add_topics("p@2");
  auto& since = (*s->mutable_since())["p@1"];
  since.set_epoch(epoch_at(held, "p@1"));
  since.set_seq(2);
  s->set_last(2);
  bin.send_binary(sub.SerializeAsString());

  auto m = bin.read();
  ASSERT_TRUE(m && m->binary);
  tickgate::v1::ServerFrame f;
  ASSERT_TRUE(f.ParseFromString(m->data));
  ASSERT_TRUE(f.has_ack()) << f.ShortDebugString();
  auto& ack = f.ack();
  EXPECT_EQ(ack.id(), 7u);
  ASSERT_EQ(ack.positions().count("p@1"), 1u);
  ASSERT_EQ(ack.positions().count("p@2"), 1u);
  EXPECT_EQ(ack.positions().at("p@1").epoch(), epoch_at(held, "p@1"));
  EXPECT_EQ(ack.positions().at("p@1").seq(), 5u);
  EXPECT_EQ(ack.positions().at("p@2").epoch(), epoch_at(held, "p@2"));
  EXPECT_EQ(ack.positions().at("p@2").seq(), 5u);
  ASSERT_EQ(ack.recovered().size(), 1u) << "recovered names only the topics asked with since";
  EXPECT_TRUE(ack.recovered().at("p@1"));

  // p@1 resumes after 2; p@2 rewinds to its last 2, the newest a snapshot.
  std::map<std::string, std::vector<uint64_t>> got;
  std::map<uint64_t, bool> p2_snapshot;
  for (int i = 0; i < 5; ++i) {
    auto e = bin.read();
    ASSERT_TRUE(e && e->binary);
    ASSERT_TRUE(f.ParseFromString(e->data));
    ASSERT_TRUE(f.has_event()) << f.ShortDebugString();
    got[f.event().topic()].push_back(f.event().seq());
    EXPECT_EQ(f.event().data(), std::to_string(f.event().seq()));
    if (f.event().topic() == "p@2")
      p2_snapshot[f.event().seq()] = f.event().snapshot();
    else
      EXPECT_FALSE(f.event().snapshot());
  }
  EXPECT_EQ(got["p@1"], (std::vector<uint64_t>{3, 4, 5}));
  EXPECT_EQ(got["p@2"], (std::vector<uint64_t>{4, 5}));
  EXPECT_EQ(p2_snapshot, (std::map<uint64_t, bool>{{4, false}, {5, true}}));
  EXPECT_FALSE(bin.read(100ms));
}

TEST(recovery, bad_subscribe_options_get_bad_request_and_the_connection_stays_usable) {
  node_process node;
  ws_client c{node.port()};
  const std::vector<std::string> bad{
    R"({"op":"subscribe","id":1,"topics":["a"],"last":0})",
    R"({"op":"subscribe","id":2,"topics":["a"],"throttle_ms":5})",
    R"({"op":"subscribe","id":3,"topics":["a"],"since":{"b":{"epoch":"E","seq":1}}})",
    R"({"op":"subscribe","id":4,"topics":["a"],"last":3,"snapshot":true})",
  };
  for (size_t i = 0; i < bad.size(); ++i) {
    c.send_text(bad[i]);
    auto m = c.read();
    ASSERT_TRUE(m) << bad[i];
    EXPECT_TRUE(is_type(*m, "error")) << m->data;
    EXPECT_EQ(json_field(m->data, "id"), std::to_string(i + 1)) << m->data;
    EXPECT_EQ(json_string(m->data, "code"), "bad_request") << m->data;
  }
  EXPECT_FALSE(c.closed());
  // None of them subscribed; a good one does.
  ASSERT_EQ(publish(node.port(), "a", "0"), 200);
  EXPECT_FALSE(next_event(c, 100ms));
  auto ack = subscribe(c, 5, {"a"});
  ASSERT_TRUE(is_type({ack}, "ack")) << ack;
  ASSERT_EQ(publish(node.port(), "a", "1"), 200);
  auto ev = next_event(c);
  ASSERT_TRUE(ev);
  EXPECT_EQ(json_field(ev->data, "data"), "1");
}
