// The relay's outbox: frames queued between two sends of the relay actor go
// out as one batch; the window bounds what is queued or unconfirmed toward
// one following node, and confirmations move it.
#include "actors/relay_outbox.hpp"

#include <gtest/gtest.h>

using namespace tickgate;

namespace {

shared_bytes bytes(const char* s) { return shared_bytes{std::string{s}}; }

} // namespace

TEST(relay_outbox, frames_queued_before_the_relay_sends_go_out_together_in_order) {
  relay_outbox box{100};
  EXPECT_EQ(box.add(bytes("a")), relay_outbox::added::first); // ask the relay to send
  EXPECT_EQ(box.add(bytes("b")), relay_outbox::added::queued);
  EXPECT_EQ(box.add(bytes("c")), relay_outbox::added::queued);
  auto batch = box.take();
  ASSERT_EQ(batch.size(), 3u);
  EXPECT_EQ(*batch[0], "a");
  EXPECT_EQ(*batch[2], "c");
  EXPECT_EQ(box.in_flight(), 3u);
  EXPECT_TRUE(box.take().empty());
  // Keeping up: one frame per send.
  EXPECT_EQ(box.add(bytes("d")), relay_outbox::added::first);
  EXPECT_EQ(box.take().size(), 1u);
}

TEST(relay_outbox, the_window_drops_frames_until_the_follower_confirms) {
  relay_outbox box{3};
  EXPECT_EQ(box.add(bytes("1")), relay_outbox::added::first);
  EXPECT_EQ(box.add(bytes("2")), relay_outbox::added::queued);
  EXPECT_EQ(box.add(bytes("3")), relay_outbox::added::queued);
  EXPECT_EQ(box.add(bytes("4")), relay_outbox::added::dropped); // 3 queued
  EXPECT_EQ(box.take().size(), 3u);
  EXPECT_EQ(box.add(bytes("5")), relay_outbox::added::dropped); // 3 unconfirmed
  EXPECT_FALSE(box.resync_due()); // no room yet
  box.confirmed(2);
  EXPECT_EQ(box.in_flight(), 1u);
  EXPECT_TRUE(box.resync_due()); // room again after drops: once
  EXPECT_FALSE(box.resync_due());
  EXPECT_EQ(box.add(bytes("6")), relay_outbox::added::first);
  EXPECT_EQ(box.add(bytes("7")), relay_outbox::added::queued);
  EXPECT_EQ(box.add(bytes("8")), relay_outbox::added::dropped);
  box.confirmed(1000); // more than in flight: nothing goes negative
  EXPECT_EQ(box.in_flight(), 0u);
}
