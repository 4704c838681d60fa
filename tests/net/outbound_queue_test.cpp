// A session's outbound queue without a socket: its bounds and slow-consumer
// policies, how a write takes from it, write pacing with a driven clock, and
// the per-thread pool of batch storage.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "net/outbound_queue.hpp"

namespace tickgate::net {
namespace {

frame event(std::string bytes, int64_t ts = 1) {
  auto f = make_frame(std::move(bytes), false);
  f.ts_us = ts;
  return f;
}

// An event of stream (topic) `stream`, as a topic sends it.
frame event_of(uint64_t stream, std::string bytes) {
  auto f = event(std::move(bytes));
  f.stream = stream;
  return f;
}

frame reply(std::string bytes) {
  return make_frame(std::move(bytes), false);
}

std::vector<std::string> contents(const std::vector<frame>& frames) {
  std::vector<std::string> out;
  for (auto& f : frames)
    out.push_back(*f.bytes);
  return out;
}

// Takes everything queued (with budget), as an unpaced write does.
std::vector<frame> take_all(outbound_queue& q) {
  std::vector<frame> batch;
  std::vector<frame> refill;
  size_t bytes = 0;
  q.take(true, 1 << 20, batch, refill, bytes);
  return batch;
}

TEST(outbound_queue, asks_for_one_flush_until_a_write_empties_it) {
  outbound_queue q;
  outbound_limits limits;
  auto first = q.push(event("a"), limits);
  EXPECT_EQ(first.result, send_result::queued);
  EXPECT_TRUE(first.ask_flush);
  EXPECT_FALSE(q.push(event("b"), limits).ask_flush); // the flush is already asked for
  EXPECT_EQ(contents(take_all(q)), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(q.push(event("c"), limits).ask_flush);
}

TEST(outbound_queue, past_a_bound_it_overflows_and_then_refuses_everything) {
  outbound_queue q;
  outbound_limits limits{2, 1000, slow_policy::disconnect};
  q.push(event("a"), limits);
  q.push(event("b"), limits);
  auto r = q.push(event("c"), limits);
  EXPECT_EQ(r.result, send_result::overflow);
  EXPECT_EQ(r.frames, 2u);
  EXPECT_EQ(r.bytes, 2u);
  EXPECT_EQ(r.dropped, 0u);
  EXPECT_EQ(q.push(event("d"), outbound_limits{}).result, send_result::closed);
}

TEST(outbound_queue, the_byte_bound_counts_the_incoming_frame) {
  outbound_queue q;
  outbound_limits limits{100, 10, slow_policy::disconnect};
  EXPECT_EQ(q.push(event("12345"), limits).result, send_result::queued);
  EXPECT_EQ(q.push(event("12345"), limits).result, send_result::queued);
  EXPECT_EQ(q.push(event("1"), limits).result, send_result::overflow);
}

TEST(outbound_queue, drop_oldest_drops_the_older_half_of_the_events_and_keeps_replies) {
  outbound_queue q;
  outbound_limits limits{5, 1000, slow_policy::drop_oldest};
  q.push(event("e1"), limits);
  q.push(reply("r1"), limits);
  q.push(event("e2"), limits);
  q.push(event("e3"), limits);
  q.push(event("e4"), limits);
  auto r = q.push(event("e5"), limits);
  EXPECT_EQ(r.result, send_result::queued);
  EXPECT_EQ(r.dropped, 2u); // half of the four queued events, the oldest
  EXPECT_EQ(contents(take_all(q)), (std::vector<std::string>{"r1", "e3", "e4", "e5"}));
  EXPECT_EQ(q.stats().queued_bytes, 0u);
}

TEST(outbound_queue, drop_oldest_drops_as_many_events_as_the_bytes_need) {
  outbound_queue q;
  outbound_limits limits{100, 40, slow_policy::drop_oldest};
  for (int i = 0; i < 4; ++i)
    q.push(event(std::string(10, char('a' + i))), limits);
  auto r = q.push(event(std::string(35, 'z')), limits);
  EXPECT_EQ(r.result, send_result::queued);
  EXPECT_EQ(r.dropped, 4u); // half would leave 20 + 35 > 40 bytes
  EXPECT_EQ(q.stats().queued_bytes, 35u);
}

TEST(outbound_queue, drop_oldest_overflows_when_only_replies_fill_it) {
  outbound_queue q;
  outbound_limits limits{2, 1000, slow_policy::drop_oldest};
  q.push(reply("r1"), limits);
  q.push(reply("r2"), limits);
  auto r = q.push(event("e"), limits);
  EXPECT_EQ(r.result, send_result::overflow);
  EXPECT_EQ(r.frames, 2u);
}

TEST(outbound_queue, conflate_queues_every_event_while_within_the_bounds) {
  outbound_queue q;
  outbound_limits limits{4, 1000, slow_policy::conflate};
  for (auto* bytes : {"a1", "a2", "a3", "a4"}) {
    auto r = q.push(event_of(1, bytes), limits);
    EXPECT_EQ(r.result, send_result::queued);
    EXPECT_EQ(r.conflated, 0u);
  }
  EXPECT_EQ(contents(take_all(q)), (std::vector<std::string>{"a1", "a2", "a3", "a4"}));
}

TEST(outbound_queue, conflate_keeps_only_the_newest_event_of_each_stream_past_a_bound) {
  outbound_queue q;
  outbound_limits limits{4, 1000, slow_policy::conflate};
  q.push(event_of(1, "a1"), limits);
  q.push(event_of(2, "b1"), limits);
  q.push(event_of(1, "a2"), limits);
  q.push(event_of(2, "b2"), limits);
  auto r = q.push(event_of(1, "a3"), limits);
  EXPECT_EQ(r.result, send_result::queued);
  EXPECT_EQ(r.conflated, 3u); // a1 and a2 (a3 is newer), b1 (b2 is)
  EXPECT_EQ(r.dropped, 0u);
  EXPECT_EQ(q.stats().queued_bytes, 4u);
  EXPECT_EQ(contents(take_all(q)), (std::vector<std::string>{"b2", "a3"}));
}

TEST(outbound_queue, conflate_never_lets_an_event_overtake_a_reply_queued_after_its_stream) {
  outbound_queue q;
  outbound_limits limits{4, 1000, slow_policy::conflate};
  q.push(event_of(1, "a1"), limits);
  q.push(reply("r1"), limits); // e.g. the ack of a request sent after a1
  q.push(event_of(2, "b1"), limits);
  q.push(event_of(2, "b2"), limits);
  auto r = q.push(event_of(1, "a2"), limits);
  EXPECT_EQ(r.conflated, 2u);
  // b2 keeps its place, a2 goes last: behind r1, which was queued after a1.
  EXPECT_EQ(contents(take_all(q)), (std::vector<std::string>{"r1", "b2", "a2"}));
}

TEST(outbound_queue, conflate_keeps_replies_and_frames_without_a_stream) {
  outbound_queue q;
  outbound_limits limits{4, 1000, slow_policy::conflate};
  q.push(reply("r1"), limits);
  q.push(event("s1"), limits); // an event with no stream (a status frame, say)
  q.push(reply("r2"), limits);
  q.push(event_of(1, "a1"), limits);
  auto r = q.push(reply("r3"), limits);
  EXPECT_EQ(r.result, send_result::queued);
  EXPECT_EQ(r.conflated, 0u);
  EXPECT_EQ(r.dropped, 1u) << "no stream repeats: drop-oldest makes the room";
  EXPECT_EQ(contents(take_all(q)), (std::vector<std::string>{"r1", "r2", "a1", "r3"}));
}

TEST(outbound_queue, conflate_counts_the_byte_bound_too) {
  outbound_queue q;
  outbound_limits limits{100, 10, slow_policy::conflate};
  q.push(event_of(1, "12345"), limits);
  q.push(event_of(1, "67890"), limits);
  auto r = q.push(event_of(1, "abcde"), limits);
  EXPECT_EQ(r.result, send_result::queued);
  EXPECT_EQ(r.conflated, 2u);
  EXPECT_EQ(q.stats().queued_bytes, 5u);
  EXPECT_EQ(contents(take_all(q)), (std::vector<std::string>{"abcde"}));
}

TEST(outbound_queue, conflate_falls_back_to_drop_oldest_when_no_stream_repeats) {
  outbound_queue q;
  outbound_limits limits{4, 1000, slow_policy::conflate};
  for (uint64_t s = 1; s <= 4; ++s)
    q.push(event_of(s, "e" + std::to_string(s)), limits);
  auto r = q.push(event_of(5, "e5"), limits);
  EXPECT_EQ(r.result, send_result::queued);
  EXPECT_EQ(r.conflated, 0u);
  EXPECT_EQ(r.dropped, 2u);
  EXPECT_EQ(contents(take_all(q)), (std::vector<std::string>{"e3", "e4", "e5"}));
}

TEST(outbound_queue, conflate_also_drops_the_oldest_when_it_leaves_the_queue_nearly_full) {
  // Seven streams in an eight-frame queue: conflating frees one frame, and
  // every later push would pass the bound and make the same pass again.
  outbound_queue q;
  outbound_limits limits{8, 1000, slow_policy::conflate};
  for (uint64_t s = 1; s <= 7; ++s)
    q.push(event_of(s, "e" + std::to_string(s)), limits);
  q.push(event_of(1, "n1"), limits);
  auto r = q.push(event_of(8, "e8"), limits);
  EXPECT_EQ(r.result, send_result::queued);
  EXPECT_EQ(r.conflated, 1u); // e1
  EXPECT_EQ(r.dropped, 3u);   // the older half of the seven left: e2, e3, e4
  EXPECT_EQ(contents(take_all(q)), (std::vector<std::string>{"e5", "e6", "e7", "n1", "e8"}));
}

TEST(outbound_queue, conflate_overflows_when_only_replies_fill_it) {
  outbound_queue q;
  outbound_limits limits{2, 1000, slow_policy::conflate};
  q.push(reply("r1"), limits);
  q.push(reply("r2"), limits);
  EXPECT_EQ(q.push(event_of(1, "e"), limits).result, send_result::overflow);
}

TEST(outbound_queue, without_budget_frames_wait_for_the_pacing_and_no_new_flush_is_asked) {
  outbound_queue q;
  outbound_limits limits;
  std::vector<frame> batch;
  std::vector<frame> refill;
  size_t bytes = 0;
  EXPECT_EQ(q.take(false, 1 << 20, batch, refill, bytes), outbound_queue::take_result::idle);
  EXPECT_TRUE(q.push(event("a"), limits).ask_flush); // idle cleared the request
  EXPECT_EQ(q.take(false, 1 << 20, batch, refill, bytes), outbound_queue::take_result::paced);
  EXPECT_TRUE(batch.empty());
  EXPECT_FALSE(q.push(event("b"), limits).ask_flush); // the paced write takes it along
  EXPECT_EQ(q.take(true, 1 << 20, batch, refill, bytes), outbound_queue::take_result::all);
  EXPECT_EQ(contents(batch), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(bytes, 2u);
}

TEST(outbound_queue, a_large_backlog_is_taken_in_writes_of_at_most_the_limit) {
  outbound_queue q;
  outbound_limits limits;
  q.push(event(std::string(30, 'a')), limits);
  q.push(event(std::string(30, 'b')), limits);
  q.push(event(std::string(30, 'c')), limits);
  std::vector<frame> batch;
  std::vector<frame> refill;
  size_t bytes = 0;
  EXPECT_EQ(q.take(true, 64, batch, refill, bytes), outbound_queue::take_result::part);
  EXPECT_EQ(batch.size(), 2u);
  EXPECT_EQ(bytes, 60u);
  EXPECT_FALSE(q.push(event("d"), limits).ask_flush); // the write's completion takes again
  batch.clear();
  EXPECT_EQ(q.take(true, 64, batch, refill, bytes), outbound_queue::take_result::all);
  EXPECT_EQ(contents(batch), (std::vector<std::string>{std::string(30, 'c'), "d"}));
}

TEST(outbound_queue, a_frame_larger_than_the_write_limit_goes_alone) {
  outbound_queue q;
  outbound_limits limits;
  q.push(event(std::string(100, 'a')), limits);
  q.push(event("b"), limits);
  std::vector<frame> batch;
  std::vector<frame> refill;
  size_t bytes = 0;
  EXPECT_EQ(q.take(true, 64, batch, refill, bytes), outbound_queue::take_result::part);
  EXPECT_EQ(batch.size(), 1u);
  EXPECT_EQ(bytes, 100u);
}

TEST(outbound_queue, the_queue_continues_in_the_refill_storage) {
  outbound_queue q;
  outbound_limits limits;
  q.push(event("a"), limits);
  std::vector<frame> batch;
  std::vector<frame> refill;
  refill.reserve(16);
  auto* storage = refill.data();
  size_t bytes = 0;
  q.take(true, 1 << 20, batch, refill, bytes);
  EXPECT_EQ(refill.capacity(), 0u); // used
  q.push(event("b"), limits);
  batch.clear();
  q.take(true, 1 << 20, batch, refill, bytes);
  EXPECT_EQ(batch.data(), storage); // "b" was queued into the given storage
}

TEST(outbound_queue, closing_keeps_or_discards_what_is_queued_and_refuses_more) {
  outbound_queue kept;
  outbound_queue dropped;
  outbound_limits limits;
  kept.push(event("a"), limits);
  dropped.push(event("a"), limits);
  std::vector<frame> freed;
  kept.close(false, freed);
  EXPECT_TRUE(freed.empty());
  dropped.close(true, freed);
  EXPECT_EQ(freed.size(), 1u);
  EXPECT_EQ(kept.push(event("b"), limits).result, send_result::closed);
  EXPECT_EQ(contents(take_all(kept)), (std::vector<std::string>{"a"}));
  EXPECT_TRUE(take_all(dropped).empty());
  EXPECT_EQ(dropped.stats().queued_frames, 0u);
}

TEST(outbound_queue, stats_count_what_is_queued_and_what_was_written) {
  outbound_queue q;
  outbound_limits limits;
  q.push(event("abc"), limits);
  q.push(event("de"), limits);
  auto s = q.stats();
  EXPECT_EQ(s.queued_frames, 2u);
  EXPECT_EQ(s.queued_bytes, 5u);
  q.note_written(2, 5);
  q.note_written(1, 7);
  s = q.stats();
  EXPECT_EQ(s.frames_out, 3u);
  EXPECT_EQ(s.bytes_out, 12u);
}

using clock_type = write_pacer::clock;

TEST(write_pacer, a_client_gets_a_burst_of_a_fifth_of_a_second_then_its_rate) {
  write_pacer p;
  auto t = clock_type::time_point{} + std::chrono::hours{1};
  constexpr double rate = 100; // burst: 20 frames
  ASSERT_TRUE(p.within_rate(rate, t));
  p.spend(rate, 19);
  EXPECT_TRUE(p.within_rate(rate, t)); // one token left
  p.spend(rate, 1);
  EXPECT_FALSE(p.within_rate(rate, t));
  EXPECT_TRUE(p.within_rate(rate, t + std::chrono::milliseconds{15})); // over a frame's worth
}

TEST(write_pacer, a_stream_far_over_its_rate_stays_paced_until_its_debt_is_paid) {
  write_pacer p;
  auto t = clock_type::time_point{} + std::chrono::hours{1};
  constexpr double rate = 50; // burst: 10 frames (the minimum), debt at most 10
  ASSERT_TRUE(p.within_rate(rate, t));
  p.spend(rate, 1000);
  EXPECT_FALSE(p.within_rate(rate, t + std::chrono::milliseconds{200})); // -10 + 10 = 0
  EXPECT_TRUE(p.within_rate(rate, t + std::chrono::milliseconds{240}));
}

TEST(write_pacer, rate_zero_never_paces) {
  write_pacer p;
  p.spend(0, 1000);
  EXPECT_TRUE(p.within_rate(0, clock_type::time_point{}));
}

TEST(batch_pool, small_written_batches_are_kept_for_reuse_and_large_ones_freed) {
  while (batch_pool::spare() > 0)
    batch_pool::take();
  std::vector<frame> small;
  small.reserve(8);
  small.push_back(event("a"));
  auto* storage = small.data();
  batch_pool::recycle(std::move(small));
  std::vector<frame> large;
  large.reserve(batch_pool::max_frames + 1);
  batch_pool::recycle(std::move(large));
  EXPECT_EQ(batch_pool::spare(), 1u);
  auto again = batch_pool::take();
  EXPECT_EQ(again.data(), storage);
  EXPECT_TRUE(again.empty());
  EXPECT_EQ(batch_pool::take().capacity(), 0u); // none left: nothing is allocated
}

} // namespace
} // namespace tickgate::net
