// Routing between the nodes of a cluster without Redis, against three real
// nodes: a publish on any node reaches the subscribers of every node once,
// in order, with the same seq and epoch everywhere; one inter-node message
// per interested node per event; a killed home node's topics move to a new
// home with a new epoch (subscribers get a reset, then the stream goes on);
// a client whose node died resumes on another node that follows the topic.

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include "support/cluster_nodes.hpp"
#include "support/json_fields.hpp"

using namespace std::chrono_literals;
using namespace tickgate::test;

TEST(cluster_routing, a_publish_on_any_node_reaches_every_node_once_in_order_with_the_same_position) {
  cluster c;
  std::vector<std::string> topics{"trade@A1", "trade@B2", "trade@C3", "trade@D4", "trade@E5",
                                  "trade@F6"};
  std::vector<std::unique_ptr<ws_client>> clients;
  std::set<std::string> homes;
  for (size_t i = 0; i < 3; ++i) {
    clients.push_back(std::make_unique<ws_client>(c.port(i)));
    auto ack = subscribe(*clients.back(), topics);
    ASSERT_EQ(json_string(ack, "type"), "ack") << ack;
    for (auto& t : topics)
      homes.insert(home_in(epoch_in_ack(ack, t)));
  }
  EXPECT_GE(homes.size(), 2u) << "six topics should spread over the members";
  // 8 events per topic, published round-robin through the three nodes.
  constexpr int per_topic = 8;
  for (int k = 0; k < per_topic; ++k)
    for (size_t t = 0; t < topics.size(); ++t)
      ASSERT_TRUE(publish(c.port((k + t) % 3), topics[t], std::to_string(k * 10 + int(t))));
  // Each client: per topic seq 1..8 in order, one epoch, every payload once;
  // and the same seq -> payload on every node.
  std::map<std::string, std::map<uint64_t, std::string>> first_seen;
  std::map<std::string, std::string> epoch_of;
  for (size_t i = 0; i < 3; ++i) {
    auto events = read_events(*clients[i], per_topic * topics.size());
    ASSERT_EQ(events.size(), per_topic * topics.size()) << "node " << i + 1;
    for (auto& e : events)
      EXPECT_NE(e.seq, 0u) << "a reset on node " << i + 1;
  }
  EXPECT_FALSE(clients[0]->read(300ms)) << "an event twice";
  // What each node retained, per topic, through a new subscriber's `last`.
  for (size_t i = 0; i < 3; ++i) {
    ws_client late{c.port(i)};
    auto ack = subscribe(late, topics, R"(,"last":100)");
    ASSERT_EQ(json_string(ack, "type"), "ack") << ack;
    std::map<std::string, std::vector<std::pair<uint64_t, std::string>>> by_topic;
    for (size_t n = 0; n < per_topic * topics.size(); ++n) {
      auto m = late.read_until([](const ws_message& m) { return json_string(m.data, "type") == "event"; });
      ASSERT_TRUE(m) << "node " << i + 1 << " replayed only " << n;
      auto topic = json_string(m->data, "topic");
      auto seq = std::stoull(json_field(m->data, "seq"));
      auto epoch = json_string(m->data, "epoch");
      auto data = json_field(m->data, "data");
      by_topic[topic].emplace_back(seq, data);
      if (i == 0) {
        first_seen[topic][seq] = data;
        epoch_of[topic] = epoch;
      } else {
        EXPECT_EQ(epoch_of[topic], epoch) << topic << " on node " << i + 1;
        EXPECT_EQ(first_seen[topic][seq], data) << topic << " seq " << seq << " on node " << i + 1;
      }
    }
    for (auto& t : topics) {
      auto& evs = by_topic[t];
      ASSERT_EQ(evs.size(), size_t{per_topic}) << t << " on node " << i + 1;
      std::set<std::string> payloads;
      for (size_t k = 0; k < evs.size(); ++k) {
        EXPECT_EQ(evs[k].first, k + 1) << t << " on node " << i + 1;
        payloads.insert(evs[k].second);
      }
      EXPECT_EQ(payloads.size(), size_t{per_topic}) << t << ": a payload twice or missing";
    }
  }
}

TEST(cluster_routing, the_home_sends_one_message_per_interested_node_per_event) {
  cluster c;
  // A topic followed on n1 and n2 only.
  ws_client a{c.port(0)};
  ws_client b{c.port(1)};
  std::string topic = "depth@ONE";
  auto ack_a = subscribe(a, {topic});
  auto ack_b = subscribe(b, {topic});
  ASSERT_EQ(json_string(ack_a, "type"), "ack") << ack_a;
  ASSERT_EQ(json_string(ack_b, "type"), "ack") << ack_b;
  auto home = home_in(epoch_in_ack(ack_a, topic));
  // Interested nodes other than the home: those of n1, n2 that are not it.
  double others = (home == "n1" || home == "n2") ? 1 : 2;
  auto relayed = [&] {
    double sum = 0;
    for (size_t i = 0; i < 3; ++i)
      sum += node_metric(c.port(i), "tickgate_cluster_relayed_total{direction=\"out\"}");
    return sum;
  };
  double before = relayed();
  constexpr int events = 30;
  for (int k = 0; k < events; ++k)
    ASSERT_TRUE(publish(c.port(2), topic, std::to_string(k)));
  EXPECT_EQ(read_events(a, events).size(), size_t{events});
  EXPECT_EQ(read_events(b, events).size(), size_t{events});
  EXPECT_EQ(relayed() - before, events * others) << "home " << home;
  // Nodes that relayed stop cleanly: relays and links end with them.
  for (auto& node : c.nodes) {
    auto status = node->stop(SIGTERM, 6s);
    EXPECT_TRUE(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  }
}

TEST(cluster_routing, a_killed_home_moves_its_topics_to_a_new_home_with_a_new_epoch) {
  cluster c;
  // Topics followed on n1 and n3; find those homed on n2 and the others.
  std::vector<std::string> topics;
  for (int i = 0; i < 12; ++i)
    topics.push_back("ticker@K" + std::to_string(i));
  ws_client a{c.port(0)};
  ws_client b{c.port(2)};
  auto ack = subscribe(a, topics);
  ASSERT_EQ(json_string(subscribe(b, topics), "type"), "ack");
  std::string moved, kept;
  for (auto& t : topics) {
    auto h = home_in(epoch_in_ack(ack, t));
    if (h == "n2" && moved.empty())
      moved = t;
    if (h != "n2" && kept.empty())
      kept = t;
  }
  ASSERT_FALSE(moved.empty()) << "no topic homed on n2 among twelve";
  ASSERT_FALSE(kept.empty());
  ASSERT_TRUE(publish(c.port(0), moved, "1"));
  ASSERT_TRUE(publish(c.port(0), kept, "1"));
  EXPECT_EQ(read_events(a, 2).size(), 2u);
  EXPECT_EQ(read_events(b, 2).size(), 2u);

  c.nodes[1]->stop(SIGKILL, 3s);
  c.nodes[1].reset();
  // Both followers hear a reset to the same new epoch, numbered elsewhere.
  auto reset_of = [&](ws_client& cl) {
    auto m = cl.read_until(
      [&](const ws_message& m) {
        return json_string(m.data, "type") == "reset" && json_string(m.data, "topic") == moved;
      },
      5s);
    return m ? json_string(m->data, "epoch") : std::string{"<no reset>"};
  };
  auto e1 = reset_of(a);
  auto e3 = reset_of(b);
  EXPECT_EQ(e1, e3);
  EXPECT_NE(home_in(e1), "n2");
  // The stream goes on from seq 1 of the new epoch, on both nodes, for
  // publishes through either; the other topic just continues.
  ASSERT_TRUE(publish(c.port(0), moved, "2"));
  ASSERT_TRUE(publish(c.port(2), moved, "3"));
  ASSERT_TRUE(publish(c.port(2), kept, "2"));
  for (auto* cl : {&a, &b}) {
    std::map<uint64_t, std::string> moved_seqs;
    size_t events = 0;
    // Other topics homed on n2 reset too (no events follow for them).
    for (auto& e : read_events(*cl, 3)) {
      if (e.seq == 0) {
        EXPECT_NE(e.topic, kept) << "a topic whose home lives on was reset";
        continue;
      }
      ++events;
      if (e.topic == moved) {
        EXPECT_EQ(e.epoch, e1);
        moved_seqs[e.seq] = e.data;
      } else {
        EXPECT_EQ(e.seq, 2u) << "the topic homed elsewhere continues its epoch";
      }
    }
    EXPECT_EQ(events, 3u);
    EXPECT_EQ(moved_seqs.size(), 2u);
    EXPECT_TRUE(moved_seqs.count(1) && moved_seqs.count(2));
  }
}

TEST(cluster_routing, a_client_whose_node_died_resumes_on_a_node_that_follows_the_topic) {
  cluster c;
  // Two topics followed on n1 (the client's node) and n2: one homed on n3,
  // which outlives n1, and one homed on n1, which dies with it.
  ws_client probe{c.port(1)};
  std::string kept, lost;
  std::vector<std::string> candidates;
  for (int i = 0; i < 16; ++i)
    candidates.push_back("trade@R" + std::to_string(i));
  auto probe_ack = subscribe(probe, candidates);
  for (auto& t : candidates) {
    auto h = home_in(epoch_in_ack(probe_ack, t));
    if (h == "n3" && kept.empty())
      kept = t;
    if (h == "n1" && lost.empty())
      lost = t;
  }
  ASSERT_FALSE(kept.empty() || lost.empty()) << probe_ack;
  auto victim = std::make_unique<ws_client>(c.port(0));
  ASSERT_EQ(json_string(subscribe(*victim, {kept, lost}), "type"), "ack");
  for (int k = 1; k <= 5; ++k) {
    ASSERT_TRUE(publish(c.port(2), kept, std::to_string(k)));
    ASSERT_TRUE(publish(c.port(2), lost, std::to_string(k)));
  }
  auto evs = read_events(*victim, 10);
  ASSERT_EQ(evs.size(), 10u);
  std::string kept_epoch, lost_epoch;
  for (auto& e : evs)
    (home_in(e.epoch) == "n3" ? kept_epoch : lost_epoch) = e.epoch;
  // The client had seen up to seq 3 of each when its node died.
  victim.reset();
  c.nodes[0]->stop(SIGKILL, 3s);
  c.nodes[0].reset();
  ASSERT_TRUE(eventually([&] { return c.all_see(2); }, 5s));
  ws_client back{c.port(1)};
  auto since = R"(,"since":{")" + kept + R"(":{"epoch":")" + kept_epoch + R"(","seq":3},")"
               + lost + R"(":{"epoch":")" + lost_epoch + R"(","seq":3}})";
  auto ack = subscribe(back, {kept, lost}, since);
  ASSERT_EQ(json_string(ack, "type"), "ack") << ack;
  auto recovered = json_field(ack, "recovered");
  EXPECT_EQ(json_field(recovered, kept.c_str()), "true") << ack;
  EXPECT_EQ(json_field(recovered, lost.c_str()), "false") << ack;
  auto rest = read_events(back, 2);
  ASSERT_EQ(rest.size(), 2u);
  EXPECT_EQ(rest[0].seq, 4u);
  EXPECT_EQ(rest[1].seq, 5u);
  EXPECT_EQ(rest[1].data, "5");
  EXPECT_EQ(rest[1].epoch, kept_epoch);
}

// A follower that stops reading (SIGSTOP, its link kept open) costs its
// topics' home at most cluster.relay-window frames; the other follower gets
// every event; when it runs again its clients get what was sent before the
// window filled, then a reset at the gap, then the stream goes on.
TEST(cluster_routing, a_stalled_follower_costs_the_home_at_most_its_relay_window) {
  cluster c{3, {"--cluster.relay-window=200", "--cluster.failure-timeout=60s"}};
  std::vector<std::string> topics;
  for (int i = 0; i < 12; ++i)
    topics.push_back("trade@W" + std::to_string(i));
  ws_client on_home{c.port(0)};
  auto ack = subscribe(on_home, topics);
  std::string topic;
  for (auto& t : topics)
    if (home_in(epoch_in_ack(ack, t)) == "n1" && topic.empty())
      topic = t;
  ASSERT_FALSE(topic.empty()) << "no topic homed on n1 among twelve";
  ws_client stalled{c.port(1)};
  ws_client steady{c.port(2)};
  ASSERT_EQ(json_string(subscribe(stalled, {topic}), "type"), "ack");
  ASSERT_EQ(json_string(subscribe(steady, {topic}), "type"), "ack");
  ASSERT_TRUE(publish(c.port(0), topic, "1"));
  ASSERT_EQ(read_events(stalled, 1).size(), 1u);

  auto dropped_before = node_metric(c.port(0), "tickgate_cluster_relay_dropped_total");
  ASSERT_EQ(kill(c.nodes[1]->pid(), SIGSTOP), 0);
  constexpr int burst = 1000;
  for (int k = 2; k <= burst + 1; ++k)
    ASSERT_TRUE(publish(c.port(0), topic, std::to_string(k)));
  auto got = read_events(steady, burst + 1, 20s);
  ASSERT_EQ(got.size(), size_t{burst + 1}) << "the running follower lost events";
  for (size_t i = 0; i < got.size(); ++i)
    ASSERT_EQ(got[i].seq, i + 1);
  // Toward the stalled node at most the window (200) went out after event 1.
  EXPECT_TRUE(eventually([&] {
    return node_metric(c.port(0), "tickgate_cluster_relay_dropped_total") - dropped_before
           >= burst - 200;
  }, 5s)) << node_metric(c.port(0), "tickgate_cluster_relay_dropped_total") - dropped_before;

  ASSERT_EQ(kill(c.nodes[1]->pid(), SIGCONT), 0);
  // The stalled node's client: what came before the gap, in order, then a
  // reset once the home has room again, though nothing was published since.
  uint64_t last = 1;
  for (;;) {
    auto m = stalled.read_until([](const ws_message& m) {
      auto type = json_string(m.data, "type");
      return type == "event" || type == "reset";
    }, 10s);
    ASSERT_TRUE(m) << "the stalled node's client heard nothing more after seq " << last;
    if (json_string(m->data, "type") == "reset")
      break;
    auto seq = std::stoull(json_field(m->data, "seq"));
    EXPECT_EQ(seq, last + 1) << "a gap without a reset";
    last = seq;
  }
  EXPECT_LE(last, 201u) << "more than the window reached the stalled node";
  // Then the stream goes on at the home's seq.
  ASSERT_TRUE(publish(c.port(0), topic, "\"after\""));
  auto next = read_events(stalled, 1);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].seq, uint64_t{burst + 2});
  EXPECT_EQ(next[0].data, "\"after\"");
}

// A node joins while events flow: the topics whose home moves to it go on
// there in a new epoch. Every client gets each event at most once, every
// epoch's events in order without a gap, a reset before each new epoch,
// and after the move every event again.
TEST(cluster_routing, while_a_node_joins_and_topics_move_no_event_is_delivered_twice_or_out_of_order) {
  cluster c{2};
  std::vector<std::string> topics;
  for (int i = 0; i < 12; ++i)
    topics.push_back("trade@J" + std::to_string(i));
  ws_client a{c.port(0)};
  ws_client b{c.port(1)};
  ASSERT_EQ(json_string(subscribe(a, topics), "type"), "ack");
  ASSERT_EQ(json_string(subscribe(b, topics), "type"), "ack");
  constexpr int rounds = 60;
  for (int k = 1; k <= rounds; ++k) {
    if (k == rounds / 3)
      c.start(2); // n3 joins while the publishes go on
    for (size_t t = 0; t < topics.size(); ++t)
      ASSERT_TRUE(publish(c.port((k + t) % 2), topics[t], std::to_string(k)));
  }
  ASSERT_TRUE(eventually([&] { return c.all_see(3); }, 10s));
  // After the move, one more event per topic reaches both clients.
  for (auto& t : topics)
    ASSERT_TRUE(publish(c.port(0), t, "\"end\""));
  std::set<std::string> moved;
  for (auto* cl : {&a, &b}) {
    std::map<std::string, std::string> epoch;
    std::map<std::string, uint64_t> last_seq;
    std::map<std::string, std::set<std::string>> payloads;
    std::map<std::string, bool> reset_pending;
    std::set<std::string> ended;
    auto deadline = std::chrono::steady_clock::now() + 20s;
    while (ended.size() < topics.size() && std::chrono::steady_clock::now() < deadline) {
      auto m = cl->read(2s);
      if (!m)
        continue;
      auto type = json_string(m->data, "type");
      auto topic = json_string(m->data, "topic");
      if (type == "reset") {
        reset_pending[topic] = true;
        continue;
      }
      if (type != "event")
        continue;
      auto seq = std::stoull(json_field(m->data, "seq"));
      auto ep = json_string(m->data, "epoch");
      auto data = json_field(m->data, "data");
      EXPECT_TRUE(payloads[topic].insert(data).second) << topic << " payload " << data << " twice";
      if (epoch.count(topic) && ep == epoch[topic]) {
        EXPECT_EQ(seq, last_seq[topic] + 1) << topic << ": a gap or repeat in epoch " << ep;
      } else if (epoch.count(topic)) {
        EXPECT_TRUE(reset_pending[topic]) << topic << ": epoch " << epoch[topic] << " -> " << ep
                                          << " without a reset";
        moved.insert(topic);
      }
      reset_pending[topic] = false;
      epoch[topic] = ep;
      last_seq[topic] = seq;
      if (data == "\"end\"")
        ended.insert(topic);
    }
    EXPECT_EQ(ended.size(), topics.size()) << "the last event of some topic never came";
  }
  EXPECT_FALSE(moved.empty()) << "no topic moved to the new node among twelve";
}

// Without Redis too, a client resumes on a node that never followed its
// topic: a node that starts following a topic gets the home's retained
// events with its position.
TEST(cluster_routing, a_client_resumes_on_a_node_that_never_followed_the_topic) {
  cluster c;
  std::vector<std::string> topics;
  for (int i = 0; i < 12; ++i)
    topics.push_back("trade@N" + std::to_string(i));
  ws_client probe{c.port(0)};
  auto ack = subscribe(probe, topics);
  std::string topic;
  for (auto& t : topics)
    if (home_in(epoch_in_ack(ack, t)) == "n1" && topic.empty())
      topic = t;
  ASSERT_FALSE(topic.empty()) << "no topic homed on n1 among twelve";
  ws_client client{c.port(1)};
  ASSERT_EQ(json_string(subscribe(client, {topic}), "type"), "ack");
  for (int k = 1; k <= 3; ++k)
    ASSERT_TRUE(publish(c.port(0), topic, std::to_string(k)));
  auto seen = read_events(client, 3);
  ASSERT_EQ(seen.size(), 3u);
  auto epoch = seen.back().epoch;
  // n3 never had the topic: no client there, and it is homed on n1.
  c.nodes[1]->stop(SIGKILL, 3s);
  c.nodes[1].reset();
  ASSERT_TRUE(publish(c.port(0), topic, "4"));
  ASSERT_TRUE(publish(c.port(0), topic, "5"));
  ws_client back{c.port(2)};
  auto resumed = subscribe(back, {topic},
                           R"(,"since":{")" + topic + R"(":{"epoch":")" + epoch + R"(","seq":3}})");
  ASSERT_EQ(json_string(resumed, "type"), "ack") << resumed;
  EXPECT_EQ(json_field(json_field(resumed, "recovered"), topic.c_str()), "true") << resumed;
  auto rest = read_events(back, 2);
  ASSERT_EQ(rest.size(), 2u);
  EXPECT_EQ(rest[0].seq, 4u);
  EXPECT_EQ(rest[1].seq, 5u);
  EXPECT_EQ(rest[1].data, "5");
  EXPECT_EQ(rest[1].epoch, epoch);
  // `last` there sees the home's history from the start.
  ws_client late{c.port(2)};
  ASSERT_EQ(json_string(subscribe(late, {topic}, R"(,"last":10)"), "type"), "ack");
  auto replay = read_events(late, 5);
  ASSERT_EQ(replay.size(), 5u);
  EXPECT_EQ(replay[0].seq, 1u);
}
