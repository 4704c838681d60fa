#include <gtest/gtest.h>

#include "actors/history.hpp"
#include "proto/topic_name.hpp"

using namespace tickgate;
using namespace std::chrono_literals;

namespace {

using clock_type = topic_history::clock;
const clock_type::time_point t0{};

publication_ptr pub(std::string payload, bool snapshot = false) {
  auto p = std::make_shared<publication>();
  p->topic = "trade@AAPL";
  p->payload = std::move(payload);
  p->snapshot = snapshot;
  return p;
}

std::vector<uint64_t> seqs(const std::vector<retained_event>& v) {
  std::vector<uint64_t> out;
  for (auto& e : v)
    out.push_back(e.seq);
  return out;
}

} // namespace

TEST(history, glob_matches_whole_names_with_stars) {
  EXPECT_TRUE(glob_match("trade@*", "trade@AAPL"));
  EXPECT_TRUE(glob_match("*@AAPL", "depth@AAPL"));
  EXPECT_TRUE(glob_match("user:*:orders", "user:42:orders"));
  EXPECT_TRUE(glob_match("*", ""));
  EXPECT_FALSE(glob_match("trade@*", "depth@AAPL"));
  EXPECT_FALSE(glob_match("trade@AAPL", "trade@AAPLX"));
  EXPECT_FALSE(glob_match("user:*:orders", "user:42:fills"));
}

TEST(history, rules_parse_and_the_first_match_wins) {
  std::string error;
  auto r = parse_history_rule("trade@*=size:1000,ttl:5min", error);
  ASSERT_TRUE(r) << error;
  EXPECT_EQ(r->pattern, "trade@*");
  EXPECT_EQ(r->limits.size, 1000u);
  EXPECT_EQ(r->limits.ttl, 300s);
  auto ms = parse_history_rule("depth@*=ttl:1500ms", error);
  ASSERT_TRUE(ms) << error;
  EXPECT_EQ(ms->limits.ttl, 1500ms);
  EXPECT_EQ(ms->limits.size, history_limits{}.size);
  EXPECT_FALSE(parse_history_rule("trade@*", error));
  EXPECT_FALSE(parse_history_rule("trade@*=size:many", error));
  EXPECT_NE(error.find("size"), std::string::npos);
  EXPECT_FALSE(parse_history_rule("trade@*=ttl:5 weeks", error));
  EXPECT_FALSE(parse_history_rule("trade@*=depth:3", error));
  EXPECT_NE(error.find("depth:3"), std::string::npos);

  history_settings s;
  s.rules = {*parse_history_rule("trade@AAPL=size:5", error),
             *parse_history_rule("trade@*=size:1000", error)};
  EXPECT_EQ(s.for_topic("trade@AAPL").size, 5u);
  EXPECT_EQ(s.for_topic("trade@MSFT").size, 1000u);
  EXPECT_EQ(s.for_topic("depth@MSFT").size, 100u);
}

TEST(history, the_ring_keeps_the_newest_size_events) {
  topic_history h{{3, 60s}, nullptr};
  history_evictions ev;
  for (uint64_t s = 1; s <= 5; ++s)
    ev = h.append(s, pub("p" + std::to_string(s)), t0);
  EXPECT_EQ(ev.size, 1u);
  EXPECT_EQ(h.count(), 3u);
  EXPECT_EQ(seqs(h.after(0)), (std::vector<uint64_t>{3, 4, 5}));
  EXPECT_EQ(seqs(h.after(3)), (std::vector<uint64_t>{4, 5}));
  EXPECT_EQ(seqs(h.after(3, 1)), (std::vector<uint64_t>{4}));
  EXPECT_EQ(seqs(h.last(2)), (std::vector<uint64_t>{4, 5}));
  EXPECT_EQ(seqs(h.last(10)), (std::vector<uint64_t>{3, 4, 5}));
  EXPECT_EQ(h.latest()->seq, 5u);
}

TEST(history, covers_says_whether_a_client_can_continue_without_a_gap) {
  topic_history h{{3, 60s}, nullptr};
  for (uint64_t s = 1; s <= 5; ++s)
    h.append(s, pub("x"), t0);
  EXPECT_TRUE(h.covers(5, 5)); // saw everything
  EXPECT_TRUE(h.covers(2, 5)); // 3, 4, 5 are retained
  EXPECT_FALSE(h.covers(1, 5)); // 2 is gone
  EXPECT_FALSE(h.covers(6, 5)); // never published in this epoch
  topic_history none{{0, 60s}, nullptr};
  EXPECT_TRUE(none.covers(7, 7));
  EXPECT_FALSE(none.covers(6, 7));
}

TEST(history, events_older_than_the_ttl_go) {
  topic_history h{{100, 10s}, nullptr};
  h.append(1, pub("a"), t0);
  h.append(2, pub("b"), t0 + 6s);
  EXPECT_EQ(h.expire(t0 + 10s).age, 0u); // exactly the TTL is still kept
  EXPECT_EQ(h.expire(t0 + 11s).age, 1u);
  EXPECT_EQ(seqs(h.after(0)), (std::vector<uint64_t>{2}));
  EXPECT_EQ(h.append(3, pub("c"), t0 + 17s).age, 1u);
  EXPECT_EQ(seqs(h.after(0)), (std::vector<uint64_t>{3}));
  EXPECT_EQ(h.newest_at(), t0 + 17s);
}

TEST(history, the_latest_snapshot_outlives_the_ring) {
  topic_history h{{3, 60s}, nullptr};
  h.append(1, pub("book-1", true), t0);
  for (uint64_t s = 2; s <= 4; ++s)
    h.append(s, pub("delta"), t0);
  // The ring holds 2..4; the snapshot (1) is kept beside it.
  EXPECT_EQ(seqs(h.from_snapshot()), (std::vector<uint64_t>{1, 2, 3, 4}));
  EXPECT_EQ(h.from_snapshot().front().pub->payload, "book-1");
  h.append(5, pub("book-5", true), t0 + 1s);
  h.append(6, pub("delta"), t0 + 1s);
  EXPECT_EQ(seqs(h.from_snapshot()), (std::vector<uint64_t>{5, 6}));
  EXPECT_EQ(h.snapshot_at(), t0 + 1s);
  topic_history plain{{3, 60s}, nullptr};
  plain.append(1, pub("x"), t0);
  EXPECT_TRUE(plain.from_snapshot().empty());
}

TEST(history, bytes_are_charged_to_the_node_budget_and_refunded) {
  auto budget = std::make_shared<history_budget>(size_t{1} << 20);
  std::string big(1000, 'x');
  {
    topic_history h{{2, 60s}, budget};
    h.append(1, pub(big, true), t0);
    h.append(2, pub(big), t0);
    h.append(3, pub(big), t0); // 1 leaves the ring, stays as the snapshot
    EXPECT_EQ(h.count(), 2u);
    EXPECT_EQ(static_cast<size_t>(budget->bytes()), h.bytes());
    EXPECT_GE(h.bytes(), 3 * big.size());
    EXPECT_LE(h.bytes(), 3 * (big.size() + 1 + topic_history::overhead()));
    h.append(4, pub(big, true), t0); // replaces the old snapshot
    EXPECT_EQ(static_cast<size_t>(budget->bytes()), h.bytes());
    EXPECT_LE(h.bytes(), 2 * (big.size() + 1 + topic_history::overhead()));
  }
  EXPECT_EQ(budget->bytes(), 0);
}

TEST(history, the_byte_cap_evicts_oldest_first_and_counts) {
  std::string big(1000, 'x');
  auto budget = std::make_shared<history_budget>(5 * (big.size() + 1 + topic_history::overhead()));
  topic_history a{{100, 60s}, budget};
  topic_history b{{100, 60s}, budget};
  for (uint64_t s = 1; s <= 3; ++s)
    a.append(s, pub(big), t0);
  uint64_t evicted = 0;
  for (uint64_t s = 1; s <= 4; ++s)
    evicted += b.append(s, pub(big), t0).bytes;
  EXPECT_EQ(evicted, 2u);
  EXPECT_FALSE(budget->over());
  EXPECT_EQ(seqs(b.after(0)), (std::vector<uint64_t>{3, 4}));
  EXPECT_EQ(a.count(), 3u);
}
