// The membership table's rules (actors/cluster_members.hpp) against
// injected time points: who is admitted under a name, what a heartbeat, a
// leave and a lost link do to a member, and when the sweep marks members
// down, removes them or forgets them. Handles are real (trivial) actors.

#include <chrono>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <gtest/gtest.h>

#include "actors/cluster_members.hpp"

using namespace std::chrono_literals;
using tickgate::cluster_members;
using tickgate::member_card;
using tickgate::member_state;

namespace {

using admission = cluster_members::admission;
using loss = cluster_members::loss;

constexpr auto failure_timeout = 3000ms;
constexpr auto forget_after = 60000ms;

member_card card(const std::string& name, const std::string& address, uint64_t connections = 0) {
  member_card c;
  c.name = name;
  c.address = address;
  c.http_port = 8080;
  c.connections = connections;
  return c;
}

// A stand-in for a peer's node actor: the table only compares handles.
// (A class, not a lambda: CAF 0.17 spawns an argument-less function actor
// through a null argument tuple, which the sanitizer build reports.)
class peer_actor : public caf::event_based_actor {
public:
  using caf::event_based_actor::event_based_actor;
  caf::behavior make_behavior() override {
    return {[](int) {}};
  }
};

struct cluster_members_test : ::testing::Test {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  std::vector<caf::actor> spawned;
  cluster_members table{"self"};
  cluster_members::time_point t0 = cluster_members::time_point{} + 1h;

  caf::actor peer() {
    auto a = sys.spawn<peer_actor>();
    spawned.push_back(a);
    return a;
  }

  void TearDown() override {
    table = cluster_members{"self"};
    for (auto& a : spawned)
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  }

  const cluster_members::member& member(const std::string& name) {
    auto m = table.find(name);
    EXPECT_NE(m, nullptr) << name << " is not listed";
    static const cluster_members::member none{};
    return m ? *m : none;
  }
};

} // namespace

TEST_F(cluster_members_test, a_new_member_is_admitted_up_and_listed_in_name_order) {
  auto b = peer();
  auto a = peer();
  EXPECT_EQ(table.admit(card("n2", "127.0.0.1:2"), b, t0), admission::admitted);
  EXPECT_EQ(table.admit(card("n1", "127.0.0.1:1"), a, t0 + 1s), admission::admitted);

  auto all = table.all();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0]->card.name, "n1");
  EXPECT_EQ(all[1]->card.name, "n2");
  EXPECT_EQ(member("n1").state, member_state::up);
  EXPECT_EQ(member("n1").handle, a);
  EXPECT_EQ(member("n1").since, t0 + 1s);
  EXPECT_EQ(member("n1").last_beat, t0 + 1s);
  EXPECT_EQ(table.count(member_state::up), 2u);
}

TEST_F(cluster_members_test, admitting_the_same_handle_again_refreshes_card_and_liveness) {
  auto a = peer();
  ASSERT_EQ(table.admit(card("n1", "127.0.0.1:1", 0), a, t0), admission::admitted);
  EXPECT_EQ(table.admit(card("n1", "127.0.0.1:1", 7), a, t0 + 2s), admission::refreshed);

  EXPECT_EQ(member("n1").card.connections, 7u);
  EXPECT_EQ(member("n1").last_beat, t0 + 2s);
  EXPECT_EQ(member("n1").since, t0); // still the same stretch of being up
  EXPECT_EQ(table.all().size(), 1u);
}

TEST_F(cluster_members_test, a_name_up_under_another_handle_is_taken) {
  auto first = peer();
  auto impostor = peer();
  ASSERT_EQ(table.admit(card("n1", "127.0.0.1:1"), first, t0), admission::admitted);
  EXPECT_EQ(table.admit(card("n1", "127.0.0.1:9"), impostor, t0 + 1s), admission::name_taken);

  EXPECT_EQ(member("n1").handle, first);
  EXPECT_EQ(member("n1").card.address, "127.0.0.1:1");
  EXPECT_EQ(table.all().size(), 1u);
}

TEST_F(cluster_members_test, a_new_incarnation_replaces_a_down_member) {
  auto old_one = peer();
  auto restarted = peer();
  ASSERT_EQ(table.admit(card("n1", "127.0.0.1:1"), old_one, t0), admission::admitted);
  ASSERT_EQ(table.lost(old_one.address(), t0 + 1s), loss::failed);

  EXPECT_EQ(table.admit(card("n1", "127.0.0.1:5"), restarted, t0 + 2s), admission::admitted);
  EXPECT_EQ(member("n1").state, member_state::up);
  EXPECT_EQ(member("n1").handle, restarted);
  EXPECT_EQ(member("n1").card.address, "127.0.0.1:5");
  EXPECT_EQ(member("n1").since, t0 + 2s);
  // The old link's late down message no longer concerns the member.
  EXPECT_EQ(table.lost(old_one.address(), t0 + 3s), loss::unknown);
  EXPECT_EQ(member("n1").state, member_state::up);
}

TEST_F(cluster_members_test, a_new_incarnation_replaces_a_leaving_member) {
  auto old_one = peer();
  auto restarted = peer();
  ASSERT_EQ(table.admit(card("n1", "127.0.0.1:1"), old_one, t0), admission::admitted);
  ASSERT_NE(table.leaving(old_one.address(), t0 + 1s), nullptr);

  EXPECT_EQ(table.admit(card("n1", "127.0.0.1:5"), restarted, t0 + 2s), admission::admitted);
  EXPECT_EQ(member("n1").state, member_state::up);
  EXPECT_EQ(member("n1").handle, restarted);
}

TEST_F(cluster_members_test, the_same_handle_admitted_while_down_is_up_again) {
  auto a = peer();
  ASSERT_EQ(table.admit(card("n1", "127.0.0.1:1"), a, t0), admission::admitted);
  ASSERT_EQ(table.lost(a.address(), t0 + 1s), loss::failed);

  EXPECT_EQ(table.admit(card("n1", "127.0.0.1:1"), a, t0 + 2s), admission::admitted);
  EXPECT_EQ(member("n1").state, member_state::up);
  EXPECT_EQ(member("n1").since, t0 + 2s);
}

TEST_F(cluster_members_test, this_nodes_own_name_is_refused) {
  EXPECT_EQ(table.admit(card("self", "127.0.0.1:1"), peer(), t0), admission::name_taken);
  EXPECT_EQ(table.find("self"), nullptr);
  EXPECT_TRUE(table.all().empty());
}

TEST_F(cluster_members_test, a_heartbeat_refreshes_an_up_member) {
  auto a = peer();
  ASSERT_EQ(table.admit(card("n1", "127.0.0.1:1"), a, t0), admission::admitted);
  bool was_down = true;
  auto m = table.beat(a.address(), card("n1", "127.0.0.1:1", 3), t0 + 1s, &was_down);
  ASSERT_NE(m, nullptr);
  EXPECT_FALSE(was_down);
  EXPECT_EQ(m->card.connections, 3u);
  EXPECT_EQ(m->last_beat, t0 + 1s);
  EXPECT_EQ(m->since, t0);
}

TEST_F(cluster_members_test, a_heartbeat_over_the_same_link_revives_a_down_member) {
  auto a = peer();
  ASSERT_EQ(table.admit(card("n1", "127.0.0.1:1"), a, t0), admission::admitted);
  ASSERT_EQ(table.sweep(t0 + failure_timeout, failure_timeout, forget_after),
            std::vector<std::string>{"n1"});
  ASSERT_EQ(member("n1").state, member_state::down);

  bool was_down = false;
  ASSERT_NE(table.beat(a.address(), card("n1", "127.0.0.1:1"), t0 + 5s, &was_down), nullptr);
  EXPECT_TRUE(was_down);
  EXPECT_EQ(member("n1").state, member_state::up);
  EXPECT_EQ(member("n1").since, t0 + 5s);
  EXPECT_EQ(table.count(member_state::down), 0u);
}

TEST_F(cluster_members_test, heartbeats_from_unknown_handles_or_under_another_name_are_ignored) {
  auto a = peer();
  auto stranger = peer();
  ASSERT_EQ(table.admit(card("n1", "127.0.0.1:1"), a, t0), admission::admitted);

  EXPECT_EQ(table.beat(stranger.address(), card("n1", "127.0.0.1:1", 9), t0 + 1s), nullptr);
  EXPECT_EQ(table.beat(a.address(), card("n2", "127.0.0.1:1", 9), t0 + 1s), nullptr);
  EXPECT_EQ(member("n1").card.connections, 0u);
  EXPECT_EQ(member("n1").last_beat, t0);
  EXPECT_EQ(table.find("n2"), nullptr);
}

TEST_F(cluster_members_test, a_leaving_member_whose_link_is_lost_has_left) {
  auto a = peer();
  ASSERT_EQ(table.admit(card("n1", "127.0.0.1:1"), a, t0), admission::admitted);
  auto m = table.leaving(a.address(), t0 + 1s);
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->state, member_state::leaving);
  EXPECT_EQ(table.count(member_state::leaving), 1u);
  EXPECT_TRUE(table.up_cards().empty());

  std::string name;
  EXPECT_EQ(table.lost(a.address(), t0 + 2s, &name), loss::left);
  EXPECT_EQ(name, "n1");
  EXPECT_EQ(table.find("n1"), nullptr);
  EXPECT_TRUE(table.all().empty());
}

TEST_F(cluster_members_test, an_up_member_whose_link_is_lost_has_failed) {
  auto a = peer();
  ASSERT_EQ(table.admit(card("n1", "127.0.0.1:1"), a, t0), admission::admitted);

  std::string name;
  EXPECT_EQ(table.lost(a.address(), t0 + 2s, &name), loss::failed);
  EXPECT_EQ(name, "n1");
  EXPECT_EQ(member("n1").state, member_state::down);
  EXPECT_EQ(member("n1").since, t0 + 2s);
  // A second down message for the same link is no second failure.
  EXPECT_EQ(table.lost(a.address(), t0 + 3s), loss::unknown);
  EXPECT_EQ(member("n1").since, t0 + 2s);
  EXPECT_EQ(table.lost(peer().address(), t0 + 3s), loss::unknown);
}

TEST_F(cluster_members_test, the_sweep_marks_a_silent_member_down_exactly_at_the_failure_timeout) {
  auto a = peer();
  auto b = peer();
  ASSERT_EQ(table.admit(card("n1", "127.0.0.1:1"), a, t0), admission::admitted);
  ASSERT_EQ(table.admit(card("n2", "127.0.0.1:2"), b, t0), admission::admitted);
  ASSERT_NE(table.beat(b.address(), card("n2", "127.0.0.1:2"), t0 + 2s), nullptr);

  EXPECT_TRUE(table.sweep(t0 + failure_timeout - 1ms, failure_timeout, forget_after).empty());
  EXPECT_EQ(member("n1").state, member_state::up);

  EXPECT_EQ(table.sweep(t0 + failure_timeout, failure_timeout, forget_after),
            std::vector<std::string>{"n1"});
  EXPECT_EQ(member("n1").state, member_state::down);
  EXPECT_EQ(member("n1").since, t0 + failure_timeout);
  EXPECT_EQ(member("n2").state, member_state::up); // it beat at t0 + 2 s

  // Already down: not reported again.
  EXPECT_EQ(table.sweep(t0 + 2s + failure_timeout, failure_timeout, forget_after),
            std::vector<std::string>{"n2"});
  EXPECT_EQ(table.count(member_state::down), 2u);
}

TEST_F(cluster_members_test, the_sweep_removes_a_silent_leaving_member_without_a_failure) {
  auto a = peer();
  ASSERT_EQ(table.admit(card("n1", "127.0.0.1:1"), a, t0), admission::admitted);
  ASSERT_NE(table.leaving(a.address(), t0 + 1s), nullptr);

  EXPECT_TRUE(table.sweep(t0 + 1s + failure_timeout - 1ms, failure_timeout, forget_after).empty());
  EXPECT_EQ(member("n1").state, member_state::leaving);

  EXPECT_TRUE(table.sweep(t0 + 1s + failure_timeout, failure_timeout, forget_after).empty());
  EXPECT_EQ(table.find("n1"), nullptr);
}

TEST_F(cluster_members_test, the_sweep_forgets_a_member_down_for_forget_after) {
  auto a = peer();
  ASSERT_EQ(table.admit(card("n1", "127.0.0.1:1"), a, t0), admission::admitted);
  ASSERT_EQ(table.lost(a.address(), t0 + 1s), loss::failed);

  EXPECT_TRUE(table.sweep(t0 + 1s + forget_after - 1ms, failure_timeout, forget_after).empty());
  EXPECT_EQ(member("n1").state, member_state::down);

  EXPECT_TRUE(table.sweep(t0 + 1s + forget_after, failure_timeout, forget_after).empty());
  EXPECT_EQ(table.find("n1"), nullptr);
}

TEST_F(cluster_members_test, up_cards_handles_addresses_and_counts_cover_up_members_only) {
  auto a = peer();
  auto b = peer();
  auto c = peer();
  ASSERT_EQ(table.admit(card("n1", "127.0.0.1:1"), a, t0), admission::admitted);
  ASSERT_EQ(table.admit(card("n2", "127.0.0.1:2"), b, t0), admission::admitted);
  ASSERT_EQ(table.admit(card("n3", "127.0.0.1:3"), c, t0), admission::admitted);
  ASSERT_EQ(table.lost(b.address(), t0 + 1s), loss::failed);
  ASSERT_NE(table.leaving(c.address(), t0 + 1s), nullptr);

  auto cards = table.up_cards();
  ASSERT_EQ(cards.size(), 1u);
  EXPECT_EQ(cards[0].name, "n1");
  EXPECT_EQ(table.up_handles(), std::vector<caf::actor>{a});
  EXPECT_TRUE(table.is_up_at("127.0.0.1:1"));
  EXPECT_FALSE(table.is_up_at("127.0.0.1:2")); // down
  EXPECT_FALSE(table.is_up_at("127.0.0.1:3")); // leaving
  EXPECT_FALSE(table.is_up_at("127.0.0.1:4")); // nobody
  EXPECT_EQ(table.count(member_state::up), 1u);
  EXPECT_EQ(table.count(member_state::down), 1u);
  EXPECT_EQ(table.count(member_state::leaving), 1u);
  EXPECT_EQ(table.all().size(), 3u);
}
