// The pieces a topic's fan-out and a session's outbound queue share between
// threads: frame bytes handed to many clients with one reference-count step,
// and the lock of a session's queue.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "actors/session_sink.hpp"
#include "net/queue_lock.hpp"

namespace tickgate {
namespace {

TEST(shared_bytes, copies_and_moves_share_one_string_and_keep_its_size) {
  shared_bytes a{std::string(100, 'x')};
  EXPECT_EQ(a.size(), 100u);
  EXPECT_EQ(a.use_count(), 1u);
  shared_bytes b = a;
  EXPECT_EQ(&*a, &*b);
  EXPECT_EQ(a.use_count(), 2u);
  shared_bytes c = std::move(b);
  EXPECT_FALSE(b);
  EXPECT_EQ(b.size(), 0u);
  EXPECT_EQ(c.size(), 100u);
  EXPECT_EQ(a.use_count(), 2u);
  c = shared_bytes{};
  EXPECT_EQ(a.use_count(), 1u);
}

TEST(shared_bytes, reserved_references_are_handed_out_and_given_back_exactly) {
  shared_bytes frame{"event"};
  frame.reserve(3);
  EXPECT_EQ(frame.use_count(), 4u);
  {
    auto one = frame.adopt();
    auto two = frame.adopt();
    EXPECT_EQ(frame.use_count(), 4u); // adopting does not count again
    EXPECT_EQ(*one, "event");
    EXPECT_EQ(two.size(), 5u);
    frame.unreserve(1); // the third receiver was not sent to
    EXPECT_EQ(frame.use_count(), 3u);
  }
  EXPECT_EQ(frame.use_count(), 1u);
}

// One "topic" hands adopted copies of each frame to two "I/O threads",
// which drop them while the next frames are handed out.
void hand_out_across_threads(int frames, size_t receivers, std::vector<shared_bytes>* kept) {
  net::queue_lock lock;
  std::vector<shared_bytes> inbox[2];
  std::atomic<bool> done{false};
  auto drain = [&](int i) {
    std::vector<shared_bytes> taken;
    for (;;) {
      bool last = done.load();
      {
        std::lock_guard<net::queue_lock> guard{lock};
        taken.swap(inbox[i]);
      }
      taken.clear();
      if (last)
        break;
    }
  };
  std::thread a{drain, 0};
  std::thread b{drain, 1};
  for (int n = 0; n < frames; ++n) {
    shared_bytes f{"frame " + std::to_string(n)};
    if (kept != nullptr)
      kept->push_back(f);
    f.reserve(receivers);
    for (size_t r = 0; r < receivers; ++r) {
      std::lock_guard<net::queue_lock> guard{lock};
      inbox[r % 2].push_back(f.adopt());
    }
  }
  done = true;
  a.join();
  b.join();
}

TEST(shared_bytes, references_handed_to_other_threads_are_each_released_once) {
  // A copy kept here must end as the only reference: every adopted copy was
  // released exactly once, on whichever thread dropped it.
  std::vector<shared_bytes> kept;
  hand_out_across_threads(200, 1000, &kept);
  ASSERT_EQ(kept.size(), 200u);
  for (size_t n = 0; n < kept.size(); ++n) {
    EXPECT_EQ(kept[n].use_count(), 1u) << n;
    EXPECT_EQ(*kept[n], "frame " + std::to_string(n));
  }
}

TEST(shared_bytes, the_consuming_threads_free_the_bytes_when_nothing_else_holds_them) {
  // Here the last release is an I/O thread's. What this checks is under the
  // sanitizers: a count left above zero is a leak, one dropped below zero a
  // double free, and either fails the sanitized run.
  hand_out_across_threads(200, 1000, nullptr);
}

TEST(queue_lock, threads_never_hold_it_at_once) {
  net::queue_lock lock;
  uint64_t counter = 0; // not atomic: only the lock keeps increments whole
  std::atomic<int> inside{0}; // holders right now (atomic: never folded away)
  std::atomic<bool> overlapped{false};
  constexpr int threads = 4;
  constexpr int rounds = 200000;
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&] {
      for (int i = 0; i < rounds; ++i) {
        std::lock_guard<net::queue_lock> guard{lock};
        if (inside.fetch_add(1, std::memory_order_relaxed) != 0)
          overlapped = true;
        ++counter;
        inside.fetch_sub(1, std::memory_order_relaxed);
      }
    });
  for (auto& w : workers)
    w.join();
  EXPECT_FALSE(overlapped.load());
  EXPECT_EQ(counter, uint64_t{threads} * rounds);
}

TEST(queue_lock, try_lock_fails_while_held_and_succeeds_after) {
  net::queue_lock lock;
  lock.lock();
  bool got = true;
  std::thread other{[&] { got = lock.try_lock(); }};
  other.join();
  EXPECT_FALSE(got);
  lock.unlock();
  EXPECT_TRUE(lock.try_lock());
  lock.unlock();
}

} // namespace
} // namespace tickgate
