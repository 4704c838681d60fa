// home_of: every node with the same member list picks the same home for a
// topic, and membership changes move only the topics they must.
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "actors/cluster_members.hpp"

using namespace tickgate;

namespace {

std::vector<std::string> topics(size_t n) {
  std::vector<std::string> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i)
    out.push_back("trade@SYM" + std::to_string(i));
  return out;
}

// topic → home among `names`.
std::map<std::string, std::string> homes(const std::vector<std::string>& ts,
                                         const std::vector<std::string>& names) {
  std::map<std::string, std::string> out;
  for (auto& t : ts)
    out[t] = home_of(t, names);
  return out;
}

const std::vector<std::string> three{"node-a", "node-b", "node-c"};

} // namespace

TEST(rendezvous, the_same_members_give_the_same_home_whatever_their_order) {
  auto ts = topics(500);
  auto first = homes(ts, three);
  EXPECT_EQ(homes(ts, three), first);
  std::vector<std::string> reversed{three.rbegin(), three.rend()};
  EXPECT_EQ(homes(ts, reversed), first);
  std::vector<std::string> rotated{"node-b", "node-c", "node-a"};
  EXPECT_EQ(homes(ts, rotated), first);
}

TEST(rendezvous, the_home_is_always_a_listed_member) {
  for (auto& t : topics(300))
    EXPECT_NE(std::find(three.begin(), three.end(), home_of(t, three)), three.end()) << t;
  const std::vector<std::string> alone{"solo"};
  EXPECT_EQ(home_of("trade@AAPL", alone), "solo");
}

TEST(rendezvous, a_member_leaving_moves_only_the_topics_it_held) {
  auto ts = topics(3000);
  auto before = homes(ts, three);
  const std::vector<std::string> without_b{"node-a", "node-c"};
  auto after = homes(ts, without_b);
  size_t moved = 0;
  for (auto& t : ts) {
    if (before[t] == "node-b") {
      EXPECT_NE(after[t], "node-b");
      ++moved;
    } else {
      EXPECT_EQ(after[t], before[t]) << t << " moved though its home stayed";
    }
  }
  EXPECT_GT(moved, 0u);
}

TEST(rendezvous, a_member_joining_takes_about_a_third_of_three_thousand_topics_and_moves_nothing_else) {
  auto ts = topics(3000);
  const std::vector<std::string> two{"node-a", "node-b"};
  auto before = homes(ts, two);
  auto after = homes(ts, three);
  size_t taken = 0;
  for (auto& t : ts) {
    if (after[t] == "node-c")
      ++taken;
    else
      EXPECT_EQ(after[t], before[t]) << t << " moved between the members that stayed";
  }
  EXPECT_GT(taken, ts.size() * 20 / 100);
  EXPECT_LT(taken, ts.size() * 45 / 100);
}

TEST(rendezvous, topics_spread_evenly_over_three_members) {
  auto ts = topics(3000);
  std::map<std::string, size_t> held;
  for (auto& [topic, home] : homes(ts, three))
    ++held[home];
  ASSERT_EQ(held.size(), 3u);
  for (auto& [name, n] : held) {
    EXPECT_GT(n, 800u) << name; // a third is 1,000
    EXPECT_LT(n, 1200u) << name;
  }
}
