// The node-wide count of subscriptions per user behind
// limits.max-channels-per-user, and each connection's part of it.
#include "actors/user_registry.hpp"

#include <thread>
#include <vector>

#include <gtest/gtest.h>

using namespace tickgate;

TEST(user_registry, a_user_may_hold_up_to_the_limit_and_a_refusal_changes_nothing) {
  user_registry r{5};
  EXPECT_TRUE(r.try_add("alice", 3));
  EXPECT_FALSE(r.try_add("alice", 3));
  EXPECT_EQ(r.count("alice"), 3u);
  EXPECT_TRUE(r.try_add("alice", 2));
  EXPECT_FALSE(r.try_add("alice", 1));
  EXPECT_TRUE(r.try_add("bob", 5)); // users are counted apart
  r.remove("alice", 4);
  EXPECT_EQ(r.count("alice"), 1u);
  r.remove("alice", 9); // never below zero
  EXPECT_EQ(r.count("alice"), 0u);
  EXPECT_TRUE(r.try_add("alice", 5));
}

TEST(user_registry, limit_zero_counts_without_refusing) {
  user_registry r{0};
  EXPECT_TRUE(r.try_add("alice", 1000));
  EXPECT_EQ(r.count("alice"), 1000u);
}

TEST(user_quota, two_connections_of_one_user_share_the_users_limit) {
  auto r = std::make_shared<user_registry>(4);
  user_quota a, b;
  a.use(r);
  b.use(r);
  a.become("alice");
  b.become("alice");
  EXPECT_TRUE(a.take(3));
  EXPECT_FALSE(b.take(2)); // 3 + 2 > 4 across both connections
  EXPECT_EQ(b.held(), 0u);
  EXPECT_TRUE(b.take(1));
  EXPECT_EQ(a.user_count(), 4u);
  a.give_back(2);
  EXPECT_TRUE(b.take(2));
  EXPECT_EQ(r->count("alice"), 4u);
}

TEST(user_quota, an_ending_connection_gives_back_what_it_held) {
  auto r = std::make_shared<user_registry>(10);
  {
    user_quota q;
    q.use(r);
    q.become("alice");
    ASSERT_TRUE(q.take(7));
    EXPECT_EQ(r->count("alice"), 7u);
  }
  EXPECT_EQ(r->count("alice"), 0u);
}

TEST(user_quota, anonymous_subscriptions_count_for_the_user_the_connection_proves_later) {
  auto r = std::make_shared<user_registry>(3);
  user_quota q;
  q.use(r);
  EXPECT_TRUE(q.take(5)); // anonymous: no user to count for
  EXPECT_EQ(q.user_count(), 0u);
  q.become("alice"); // what it holds moves to alice, past her limit
  EXPECT_EQ(r->count("alice"), 5u);
  EXPECT_FALSE(q.take(1));
  q.become("bob"); // another identity takes the count along
  EXPECT_EQ(r->count("alice"), 0u);
  EXPECT_EQ(r->count("bob"), 5u);
  q.become({}); // expired: nobody's count
  EXPECT_EQ(r->count("bob"), 0u);
  EXPECT_EQ(q.held(), 5u);
}

TEST(user_registry, concurrent_connections_leave_exact_counts) {
  user_registry r{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&r, t] {
      auto user = "u" + std::to_string(t % 2);
      for (int i = 0; i < 10000; ++i) {
        r.add(user, 2);
        r.remove(user, 1);
      }
    });
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(r.count("u0"), 20000u);
  EXPECT_EQ(r.count("u1"), 20000u);
}
