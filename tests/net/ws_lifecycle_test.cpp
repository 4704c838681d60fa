// The close handshake's states without a socket: each way a WebSocket
// connection can end, step by step (net/ws_lifecycle.hpp draws the diagram).
#include <gtest/gtest.h>

#include "net/ws_lifecycle.hpp"

namespace tickgate::net {
namespace {

using cc = ws_lifecycle::client_close;

ws_lifecycle open_connection() {
  ws_lifecycle l;
  l.opened();
  return l;
}

TEST(ws_lifecycle, a_new_connection_is_opening_until_the_101_is_written) {
  ws_lifecycle l;
  EXPECT_EQ(l.phase(), ws_phase::opening);
  EXPECT_FALSE(l.is_open());
  l.opened();
  EXPECT_TRUE(l.is_open());
  EXPECT_FALSE(l.close_started());
  EXPECT_FALSE(l.discarding());
}

TEST(ws_lifecycle, we_close_first_then_wait_for_the_answer_then_linger) {
  auto l = open_connection();
  ASSERT_TRUE(l.start_close(close_kind::graceful));
  EXPECT_EQ(l.phase(), ws_phase::closing);
  EXPECT_TRUE(l.close_started());
  EXPECT_FALSE(l.discarding());            // still reading, for the client's close
  EXPECT_FALSE(l.ends_with_our_close());   // our close frame does not ride with the FIN
  EXPECT_FALSE(l.close_written());         // written: now wait
  EXPECT_EQ(l.phase(), ws_phase::awaiting_close);
  EXPECT_FALSE(l.discarding());
  EXPECT_EQ(l.on_client_close(), cc::linger);
  EXPECT_TRUE(l.linger());                 // the client's close came: drain and finish
  EXPECT_EQ(l.phase(), ws_phase::lingering);
  EXPECT_TRUE(l.discarding());
  EXPECT_TRUE(l.finish());
  EXPECT_TRUE(l.finished());
}

TEST(ws_lifecycle, the_client_closes_first_and_our_close_frame_answers_it) {
  auto l = open_connection();
  EXPECT_EQ(l.on_client_close(), cc::echo);
  EXPECT_EQ(l.phase(), ws_phase::open); // the session starts the echo
  ASSERT_TRUE(l.start_close(close_kind::echo));
  EXPECT_EQ(l.phase(), ws_phase::echoing);
  EXPECT_TRUE(l.discarding());
  EXPECT_TRUE(l.ends_with_our_close());
  EXPECT_TRUE(l.close_written()); // linger at once
  EXPECT_TRUE(l.linger());
}

TEST(ws_lifecycle, an_answer_before_our_close_is_written_makes_it_the_last_frame) {
  auto l = open_connection();
  l.start_close(close_kind::graceful);
  EXPECT_EQ(l.on_client_close(), cc::wait);
  EXPECT_EQ(l.phase(), ws_phase::echoing);
  EXPECT_TRUE(l.discarding());
  EXPECT_TRUE(l.ends_with_our_close());
  EXPECT_TRUE(l.close_written());
  EXPECT_TRUE(l.linger()); // the client's close is in: drain
}

TEST(ws_lifecycle, a_protocol_failure_does_not_wait_for_an_answer) {
  auto l = open_connection();
  ASSERT_TRUE(l.start_close(close_kind::failure));
  EXPECT_EQ(l.phase(), ws_phase::failing);
  EXPECT_TRUE(l.discarding());
  EXPECT_TRUE(l.ends_with_our_close());
  EXPECT_TRUE(l.close_written());
  EXPECT_FALSE(l.linger()); // no close frame from the client: read until it hangs up
  EXPECT_EQ(l.phase(), ws_phase::lingering);
}

TEST(ws_lifecycle, only_the_first_close_counts) {
  auto l = open_connection();
  ASSERT_TRUE(l.start_close(close_kind::graceful));
  EXPECT_FALSE(l.start_close(close_kind::failure));
  EXPECT_FALSE(l.start_close(close_kind::echo));
  EXPECT_EQ(l.phase(), ws_phase::closing);
}

TEST(ws_lifecycle, a_finished_connection_ignores_everything) {
  auto l = open_connection();
  ASSERT_TRUE(l.finish());
  EXPECT_FALSE(l.finish());
  EXPECT_FALSE(l.start_close(close_kind::graceful));
  EXPECT_EQ(l.on_client_close(), cc::ignore);
  EXPECT_FALSE(l.close_written());
  EXPECT_FALSE(l.linger());
  EXPECT_TRUE(l.finished());
  EXPECT_TRUE(l.discarding());
}

TEST(ws_lifecycle, a_connection_can_end_while_opening) {
  ws_lifecycle l;
  ASSERT_TRUE(l.finish()); // the 101 could not be written
  l.opened();
  EXPECT_TRUE(l.finished());
}

TEST(ws_lifecycle, phases_have_names_for_logs) {
  EXPECT_STREQ(to_string(ws_phase::awaiting_close), "awaiting_close");
  EXPECT_STREQ(to_string(ws_phase::finished), "finished");
}

} // namespace
} // namespace tickgate::net
