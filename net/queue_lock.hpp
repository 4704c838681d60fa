#pragma once

#include <atomic>
#include <thread>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace tickgate::net {

/// The lock of a session's outbound queue, taken by a topic's actor per
/// delivery and by the I/O thread per write. On those paths it is held for a
/// few instructions (a push, a swap, a few counters); rarer ones hold it
/// longer (a slow consumer's oldest events are dropped under it, a stats
/// query copies two strings). Unlocking is a plain release store where
/// std::mutex's unlock is an atomic read-modify-write: in a profile of the
/// fanout benchmark, once the frame's reference count no longer took
/// a step per delivery, that unlock was most of the cost of a send. A waiter
/// spins briefly, then yields its core: with more threads than cores the
/// holder may have been preempted.
class queue_lock {
public:
  void lock() noexcept {
    while (held_.exchange(true, std::memory_order_acquire)) {
      for (int spins = 0; held_.load(std::memory_order_relaxed); ++spins) {
        if (spins < 64)
          pause();
        else
          std::this_thread::yield();
      }
    }
  }

  bool try_lock() noexcept {
    return !held_.load(std::memory_order_relaxed)
           && !held_.exchange(true, std::memory_order_acquire);
  }

  void unlock() noexcept { held_.store(false, std::memory_order_release); }

private:
  static void pause() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    _mm_pause();
#endif
  }

  std::atomic<bool> held_{false};
};

} // namespace tickgate::net
