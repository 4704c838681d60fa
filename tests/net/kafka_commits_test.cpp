#include "net/kafka_commits.hpp"

#include <gtest/gtest.h>

using namespace tickgate::net;

namespace {
const kafka_partition p0{"price.updates", 0};
const kafka_partition p1{"price.updates", 1};
} // namespace

TEST(kafka_commits, nothing_is_committable_before_its_batch_is_handed_on) {
  kafka_commit_tracker t;
  t.add(1, p0, 10);
  t.add(1, p0, 11);
  t.seal(1, 1);
  EXPECT_TRUE(t.take_commits().empty());
  EXPECT_TRUE(t.pending(p0));
  t.handed(1);
  EXPECT_FALSE(t.pending(p0));
  EXPECT_EQ(t.take_commits(), (std::vector<kafka_commit>{{p0, 12}}));
  EXPECT_TRUE(t.take_commits().empty()); // reported once
  EXPECT_EQ(t.committed(p0), 12);
}

TEST(kafka_commits, a_later_batch_confirmed_first_waits_for_the_earlier_one_in_its_partition) {
  kafka_commit_tracker t;
  t.add(1, p0, 0);
  t.add(1, p1, 0);
  t.seal(1, 1);
  t.add(2, p0, 1);
  t.add(2, p1, 1);
  t.seal(2, 1);
  t.handed(2);
  EXPECT_TRUE(t.take_commits().empty());
  t.handed(1);
  EXPECT_EQ(t.take_commits(), (std::vector<kafka_commit>{{p0, 2}, {p1, 2}}));
}

TEST(kafka_commits, partitions_advance_independently) {
  kafka_commit_tracker t;
  t.add(1, p0, 5);
  t.seal(1, 1);
  t.add(2, p1, 7);
  t.seal(2, 1);
  t.handed(2);
  EXPECT_EQ(t.take_commits(), (std::vector<kafka_commit>{{p1, 8}}));
  t.handed(1);
  EXPECT_EQ(t.take_commits(), (std::vector<kafka_commit>{{p0, 6}}));
}

TEST(kafka_commits, a_batch_of_skipped_records_is_committable_at_once) {
  kafka_commit_tracker t;
  t.add(1, p0, 3);
  t.seal(1, 0);
  EXPECT_EQ(t.take_commits(), (std::vector<kafka_commit>{{p0, 4}}));
}

TEST(kafka_commits, a_batch_with_publications_and_broadcasts_needs_every_confirmation) {
  kafka_commit_tracker t;
  t.add(1, p0, 3);
  t.seal(1, 2);
  t.handed(1);
  EXPECT_TRUE(t.take_commits().empty());
  t.handed(1);
  EXPECT_EQ(t.take_commits(), (std::vector<kafka_commit>{{p0, 4}}));
}

TEST(kafka_commits, an_unsealed_batch_is_never_committed) {
  kafka_commit_tracker t;
  t.add(1, p0, 3);
  t.handed(1); // unknown yet: ignored
  EXPECT_TRUE(t.take_commits().empty());
  EXPECT_TRUE(t.pending(p0));
}

TEST(kafka_commits, a_revoked_partition_is_forgotten_and_late_confirmations_are_ignored) {
  kafka_commit_tracker t;
  t.add(1, p0, 3);
  t.add(1, p1, 9);
  t.seal(1, 1);
  t.drop(p0);
  t.handed(1);
  t.handed(1); // a duplicate changes nothing
  EXPECT_EQ(t.take_commits(), (std::vector<kafka_commit>{{p1, 10}}));
  EXPECT_EQ(t.committed(p0), -1);
  EXPECT_FALSE(t.pending(p0));
}

TEST(kafka_commits, the_groups_offset_at_assignment_counts_as_committed_until_the_first_commit) {
  kafka_commit_tracker t;
  t.assigned(p0, 40);
  EXPECT_EQ(t.committed(p0), 40);
  EXPECT_TRUE(t.take_commits().empty());
  t.add(1, p0, 40);
  t.seal(1, 0);
  EXPECT_EQ(t.take_commits(), (std::vector<kafka_commit>{{p0, 41}}));
  EXPECT_EQ(t.committed(p0), 41);
  t.assigned(p1, -1);
  EXPECT_EQ(t.committed(p1), -1);
}
