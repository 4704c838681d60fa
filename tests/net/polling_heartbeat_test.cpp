// Engine.IO's ping rule for long-polling sessions, on an injected clock.
#include "net/polling_heartbeat.hpp"

#include <gtest/gtest.h>

using namespace tickgate::net;
using namespace std::chrono_literals;
using due = polling_heartbeat::due;

namespace {
const polling_heartbeat::clock::time_point t0{};
} // namespace

TEST(polling_heartbeat, a_ping_is_due_one_interval_after_the_open) {
  polling_heartbeat beat{25s, 20s, t0};
  EXPECT_EQ(beat.tick(t0 + 24s), due::nothing);
  EXPECT_EQ(beat.tick(t0 + 25s), due::ping);
  EXPECT_EQ(beat.tick(t0 + 26s), due::nothing); // one ping, then the wait for its pong
}

TEST(polling_heartbeat, a_client_that_answers_is_pinged_again_an_interval_after_its_pong) {
  polling_heartbeat beat{25s, 20s, t0};
  ASSERT_EQ(beat.tick(t0 + 25s), due::ping);
  beat.on_pong(t0 + 30s);
  EXPECT_EQ(beat.tick(t0 + 50s), due::nothing); // past the pong deadline, but answered
  EXPECT_EQ(beat.tick(t0 + 54s), due::nothing);
  EXPECT_EQ(beat.tick(t0 + 55s), due::ping);
}

TEST(polling_heartbeat, a_client_that_stops_polling_times_out_after_interval_plus_timeout) {
  polling_heartbeat beat{25s, 20s, t0};
  ASSERT_EQ(beat.tick(t0 + 25s), due::ping); // queued, never collected
  EXPECT_EQ(beat.tick(t0 + 44s), due::nothing);
  EXPECT_EQ(beat.tick(t0 + 45s), due::timeout);
}

TEST(polling_heartbeat, a_late_tick_still_gives_the_pong_its_full_timeout) {
  polling_heartbeat beat{25s, 20s, t0};
  ASSERT_EQ(beat.tick(t0 + 40s), due::ping);
  EXPECT_EQ(beat.tick(t0 + 59s), due::nothing);
  EXPECT_EQ(beat.tick(t0 + 60s), due::timeout);
}

TEST(polling_heartbeat, a_pong_nobody_asked_for_does_not_move_the_next_ping) {
  polling_heartbeat beat{25s, 20s, t0};
  beat.on_pong(t0 + 10s);
  EXPECT_EQ(beat.tick(t0 + 25s), due::ping);
}
