// A topic's conflation for throttled subscribers, driven by an injected
// clock: at most one event per interval and group, the newest wins, the first
// after a quiet interval at once, the held one no later than the interval
// after the previous send.
#include "actors/conflator.hpp"

#include <algorithm>
#include <map>
#include <vector>

#include <gtest/gtest.h>

namespace tickgate {
namespace {

using namespace std::chrono_literals;
using conflator_type = conflator<int, int>; // subscriber key, event seq
using time_point = conflator_type::time_point;

const time_point t0 = time_point{} + 1h;

struct delivery {
  std::chrono::milliseconds interval;
  int seq;
  time_point at;
  std::vector<int> members;
};

// A topic's view of the conflator: what each group was sent and when, and the
// timers it was asked to schedule (fired in order by run_until).
struct harness {
  conflator_type c;
  std::vector<delivery> sent;
  std::vector<time_point> timers;
  uint64_t conflated = 0;

  auto recorder(time_point now) {
    return [this, now](const conflator_type::group& g, const int& seq) {
      sent.push_back({std::chrono::duration_cast<std::chrono::milliseconds>(g.interval()), seq, now,
                      g.members()});
    };
  }
  void note(const conflator_type::step& s) {
    conflated += s.conflated;
    if (s.arm)
      timers.push_back(*s.arm);
  }
  // Fires every timer due by `now`, in time order.
  void run_until(time_point now) {
    for (;;) {
      auto next = std::min_element(timers.begin(), timers.end());
      if (next == timers.end() || *next > now)
        return;
      auto at = *next;
      timers.erase(next);
      note(c.on_timer(at, recorder(at)));
    }
  }
  conflator_type::step publish(int seq, time_point now) {
    run_until(now);
    auto s = c.on_event(seq, now, recorder(now));
    note(s);
    return s;
  }
  std::vector<int> seqs() const {
    std::vector<int> out;
    for (auto& d : sent)
      out.push_back(d.seq);
    return out;
  }
};

TEST(conflator, the_first_event_after_a_quiet_interval_goes_out_at_once) {
  harness h;
  h.c.add(1, 100ms);
  auto s = h.publish(1, t0);
  EXPECT_EQ(s.sent, 1u);
  EXPECT_EQ(s.held, 0u);
  EXPECT_FALSE(s.arm) << "nothing is held, so no timer is needed";
  ASSERT_EQ(h.sent.size(), 1u);
  EXPECT_EQ(h.sent[0].at, t0);
  EXPECT_EQ(h.sent[0].members, (std::vector<int>{1}));
  // Quiet for the whole interval: the next one goes at once too.
  EXPECT_EQ(h.publish(2, t0 + 100ms).sent, 1u);
  EXPECT_EQ(h.seqs(), (std::vector<int>{1, 2}));
}

TEST(conflator, within_the_interval_the_newest_event_is_held_and_replaced_ones_are_counted) {
  harness h;
  h.c.add(1, 100ms);
  h.publish(1, t0);
  auto held = h.publish(2, t0 + 10ms);
  EXPECT_EQ(held.sent, 0u);
  EXPECT_EQ(held.held, 1u);
  ASSERT_TRUE(held.arm);
  EXPECT_EQ(*held.arm, t0 + 100ms) << "due T after the last send";
  auto replaced = h.publish(3, t0 + 20ms);
  EXPECT_EQ(replaced.conflated, 1u);
  EXPECT_FALSE(replaced.arm) << "the timer already asked for covers it";
  h.publish(4, t0 + 99ms);
  EXPECT_EQ(h.seqs(), (std::vector<int>{1}));
  h.run_until(t0 + 100ms);
  EXPECT_EQ(h.seqs(), (std::vector<int>{1, 4})) << "the newest held event, not an older one";
  EXPECT_EQ(h.sent.back().at, t0 + 100ms);
  EXPECT_EQ(h.conflated, 2u);
  EXPECT_EQ(h.c.conflated(), 2u);
}

TEST(conflator, a_burst_gets_at_most_one_event_per_interval_and_its_last_value_within_one) {
  harness h;
  h.c.add(7, 100ms);
  // An event every millisecond for a second, then silence.
  constexpr int events = 1000;
  for (int i = 1; i <= events; ++i)
    h.publish(i, t0 + std::chrono::milliseconds{i - 1});
  auto last_event = t0 + std::chrono::milliseconds{events - 1};
  h.run_until(last_event + 1s);
  ASSERT_GE(h.sent.size(), 2u);
  for (size_t i = 1; i < h.sent.size(); ++i) {
    EXPECT_GE(h.sent[i].at - h.sent[i - 1].at, 100ms) << "send " << i;
    EXPECT_GT(h.sent[i].seq, h.sent[i - 1].seq) << "in order";
  }
  EXPECT_EQ(h.sent.size(), 11u); // at 0, 100, ..., 1000 ms
  EXPECT_EQ(h.sent.back().seq, events) << "the last value is delivered";
  EXPECT_LE(h.sent.back().at - last_event, 100ms);
  EXPECT_EQ(h.sent.size() + h.conflated, size_t{events}) << "every event sent or counted";
  EXPECT_FALSE(h.c.groups()[0].holding());
  EXPECT_TRUE(h.timers.empty());
}

TEST(conflator, a_held_event_whose_timer_has_not_run_yields_to_a_newer_one_at_once) {
  harness h;
  h.c.add(1, 100ms);
  h.publish(1, t0);
  h.publish(2, t0 + 50ms);
  // The timer for t0 + 100ms is late; an event at t0 + 120ms goes out at once
  // and the held one is superseded.
  auto s = h.c.on_event(3, t0 + 120ms, h.recorder(t0 + 120ms));
  h.note(s);
  EXPECT_EQ(s.sent, 1u);
  EXPECT_EQ(s.conflated, 1u);
  h.run_until(t0 + 1s);
  EXPECT_EQ(h.seqs(), (std::vector<int>{1, 3}));
}

TEST(conflator, subscribers_with_the_same_interval_share_a_group_and_one_send) {
  harness h;
  h.c.add(1, 100ms);
  h.c.add(2, 100ms);
  h.c.add(3, 250ms);
  ASSERT_EQ(h.c.groups().size(), 2u);
  h.publish(1, t0);
  ASSERT_EQ(h.sent.size(), 2u) << "one send per group, not per subscriber";
  std::map<std::chrono::milliseconds, std::vector<int>> members;
  for (auto& d : h.sent)
    members[d.interval] = d.members;
  EXPECT_EQ(members[100ms], (std::vector<int>{1, 2}));
  EXPECT_EQ(members[250ms], (std::vector<int>{3}));
}

TEST(conflator, groups_with_different_intervals_keep_their_own_cadence) {
  harness h;
  h.c.add(1, 100ms);
  h.c.add(2, 250ms);
  for (int i = 0; i < 60; ++i) // an event every 10 ms for 600 ms
    h.publish(i + 1, t0 + std::chrono::milliseconds{10 * i});
  h.run_until(t0 + 2s);
  std::map<std::chrono::milliseconds, std::vector<delivery>> by;
  for (auto& d : h.sent)
    by[d.interval].push_back(d);
  for (auto& [interval, list] : by) {
    for (size_t i = 1; i < list.size(); ++i)
      EXPECT_GE(list[i].at - list[i - 1].at, interval);
    EXPECT_EQ(list.back().seq, 60) << interval.count() << " ms: the last value arrives";
  }
  EXPECT_EQ(by[100ms].size(), 7u); // 0, 100, ..., 600
  EXPECT_EQ(by[250ms].size(), 4u); // 0, 250, 500, 750
  EXPECT_EQ(by[250ms].back().at, t0 + 750ms);
}

TEST(conflator, removing_the_last_member_drops_the_group_and_its_held_event) {
  harness h;
  h.c.add(1, 100ms);
  h.c.add(2, 100ms);
  h.publish(1, t0);
  h.publish(2, t0 + 10ms);
  EXPECT_TRUE(h.c.remove(1));
  ASSERT_EQ(h.c.groups().size(), 1u) << "a member is left";
  EXPECT_EQ(h.c.groups()[0].members(), (std::vector<int>{2}));
  EXPECT_TRUE(h.c.remove(2));
  EXPECT_TRUE(h.c.empty());
  EXPECT_FALSE(h.c.remove(2));
  h.run_until(t0 + 1s); // the timer fires and finds nothing
  EXPECT_EQ(h.seqs(), (std::vector<int>{1}));
  EXPECT_EQ(h.conflated, 0u) << "nobody was left to miss the held event";
  EXPECT_TRUE(h.timers.empty());
}

TEST(conflator, a_subscriber_joining_a_group_gets_its_next_send) {
  harness h;
  h.c.add(1, 100ms);
  h.publish(1, t0);
  h.publish(2, t0 + 30ms);
  h.c.add(2, 100ms);
  h.run_until(t0 + 100ms);
  ASSERT_EQ(h.sent.size(), 2u);
  EXPECT_EQ(h.sent[1].seq, 2);
  EXPECT_EQ(h.sent[1].members, (std::vector<int>{1, 2}));
}

TEST(conflator, a_timer_that_fires_early_asks_again_and_a_duplicate_one_does_nothing) {
  conflator_type c;
  c.add(1, 100ms);
  std::vector<int> sent;
  auto record = [&](const conflator_type::group&, const int& seq) { sent.push_back(seq); };
  c.on_event(1, t0, record);
  auto held = c.on_event(2, t0 + 10ms, record);
  ASSERT_TRUE(held.arm);
  auto early = c.on_timer(t0 + 99ms, record); // e.g. a delay rounded down
  EXPECT_EQ(early.sent, 0u);
  ASSERT_TRUE(early.arm);
  EXPECT_EQ(*early.arm, t0 + 100ms);
  EXPECT_EQ(c.on_timer(t0 + 100ms, record).sent, 1u);
  auto duplicate = c.on_timer(t0 + 100ms, record);
  EXPECT_EQ(duplicate.sent, 0u);
  EXPECT_FALSE(duplicate.arm);
  EXPECT_EQ(sent, (std::vector<int>{1, 2}));
}

TEST(conflator, an_earlier_due_group_asks_for_an_earlier_timer) {
  conflator_type c;
  c.add(1, 1s);
  c.add(2, 100ms);
  auto none = [](const conflator_type::group&, const int&) {};
  c.on_event(1, t0, none);
  auto s = c.on_event(2, t0 + 10ms, none);
  EXPECT_EQ(s.held, 2u);
  ASSERT_TRUE(s.arm);
  EXPECT_EQ(*s.arm, t0 + 100ms);
  auto t = c.on_timer(t0 + 100ms, none);
  EXPECT_EQ(t.sent, 1u);
  ASSERT_TRUE(t.arm) << "the 1 s group still holds";
  EXPECT_EQ(*t.arm, t0 + 1s);
}

} // namespace
} // namespace tickgate
