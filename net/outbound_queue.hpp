#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "actors/session_sink.hpp"
#include "net/queue_lock.hpp"

namespace tickgate::net {

/// What a push past an outbound bound does (ws.slow-consumer-policy).
enum class slow_policy : uint8_t {
  disconnect,  // overflow: the client is closed as a slow consumer
  drop_oldest, // the oldest queued events go, the client is told how many
  conflate,    // only the newest queued event of each stream stays
};

/// The bounds and slow-consumer policy of one client's outbound queue
/// (edge_settings holds the node's; configs/tickgate.ini documents them).
struct outbound_limits {
  size_t max_messages = 8192;
  size_t max_bytes = 16 * 1024 * 1024;
  slow_policy policy = slow_policy::disconnect;
};

/// The frames queued for one client between its session's writes: filled by
/// actors (any thread) through push(), emptied by the session's I/O thread
/// through take(). Bounded by outbound_limits; the policy is applied at push:
///   - a frame that fits is queued behind the others;
///   - drop-oldest: the oldest half of the queued events (frames with a
///     publish time; replies are kept) is dropped, and the caller tells the
///     client how many (the gap notice);
///   - conflate: every queued event (frame with a stream) that a newer event
///     of its stream follows, queued or incoming, is dropped (counted as
///     conflated; the client sees the newest value and the seq shows the
///     skip). What stays keeps its place and the incoming frame goes last,
///     so no event overtakes a reply queued after an older value of its
///     stream. If that leaves the queue over a bound, or more than three
///     quarters full (then a client with as many streams as the bound would
///     pay a pass over the queue for every push), drop-oldest follows;
///   - otherwise the queue closes and push reports overflow (the caller
///     closes the client with 1008 "slow consumer").
/// Replies (frames without a publish time or stream) are never dropped.
/// Holds no allocation while empty, and never allocates under its lock
/// beyond the queue's own growth (and, once per thread, the conflate
/// policy's scratch table).
///
/// Invariants (all under lock_): queued_bytes_ is the sum of the sizes of
/// frames_; every queued frame holds bytes; once closed_, nothing is queued
/// again; flush_requested_ is set from the push that found the queue idle
/// until a take() that empties it (the session's loop has been asked for a
/// flush, or a write is in flight).
class outbound_queue {
public:
  struct push_result {
    send_result result = send_result::queued;
    size_t dropped = 0;      // events dropped by drop-oldest to make room
    size_t conflated = 0;    // events dropped by conflate: a newer one of their stream is queued
    bool ask_flush = false;  // queued into an idle queue: ask the loop for a flush
    size_t frames = 0;       // overflow: what was queued when the bound was hit
    size_t bytes = 0;
  };

  /// Any thread. Applies the bounds and policy of `limits` to `f`.
  push_result push(frame f, const outbound_limits& limits);

  enum class take_result : uint8_t {
    idle,  // nothing queued (and no budget): the flush request is cleared
    paced, // frames are queued but the write must wait for the pacing
    all,   // `batch` holds every queued frame
    part,  // `batch` holds the first max_bytes of a larger backlog; take again
  };
  /// Loop thread. Moves queued frames into `batch` (empty on entry), at
  /// most `max_bytes` of them unless the first frame alone is larger.
  /// `budget`: false when the client is over its frame rate (then nothing
  /// is taken). `refill`: storage for the queue to continue in (swapped in
  /// when everything is taken; what is not used stays in `refill`).
  /// `batch_bytes`: the size of the frames taken.
  take_result take(bool budget, size_t max_bytes, std::vector<frame>& batch,
                   std::vector<frame>& refill, size_t& batch_bytes);

  /// Loop thread. Closes the queue (push returns closed from now on);
  /// `discard`: the queued frames go too (moved into `dropped`, to be freed
  /// after the lock is released).
  void close(bool discard, std::vector<frame>& dropped);

  /// `frames` written to the socket, `bytes` their size.
  void note_written(size_t frames, uint64_t bytes);

  struct snapshot {
    size_t queued_frames = 0;
    size_t queued_bytes = 0;
    uint64_t frames_out = 0;
    uint64_t bytes_out = 0;
  };
  snapshot stats() const;

private:
  size_t drop_oldest_events(size_t incoming, const outbound_limits& limits); // lock_ held
  size_t conflate_events(uint64_t incoming_stream);                          // lock_ held
  // Over three quarters of a bound once a frame of `size` is queued.
  bool crowded(size_t size, const outbound_limits& limits) const {           // lock_ held
    return frames_.size() + 1 > limits.max_messages - limits.max_messages / 4
           || queued_bytes_ + size > limits.max_bytes - limits.max_bytes / 4;
  }
  bool fits(size_t size, const outbound_limits& limits) const {             // lock_ held
    return frames_.size() < limits.max_messages && queued_bytes_ + size <= limits.max_bytes;
  }

  mutable queue_lock lock_;
  bool flush_requested_ = false;
  bool closed_ = false;
  std::vector<frame> frames_;
  size_t queued_bytes_ = 0;
  uint64_t frames_out_ = 0;
  uint64_t bytes_out_ = 0;
};

/// Write pacing (edge_settings::pace_above): a token bucket of frames with
/// a burst of a fifth of a second's worth (at least 10). A stream far over
/// its rate runs into debt (at most a burst's worth) and stays paced until
/// it has been below the rate for a while. Loop thread only; the clock is
/// the caller's, so tests drive it.
class write_pacer {
public:
  using clock = std::chrono::steady_clock;

  /// Tops up the budget at `now`; true while the client is within `rate`
  /// frames per second (`rate` <= 0: never paced).
  bool within_rate(double rate, clock::time_point now);

  /// `frames` were written (rate > 0).
  void spend(double rate, size_t frames);

  static double burst(double rate) { return rate / 5 > 10.0 ? rate / 5 : 10.0; }

private:
  clock::time_point topped_up_{}; // the epoch at first: a full burst
  float tokens_ = 0;
};

/// Storage of written batches, kept per I/O thread for the queues of paced
/// sessions. A paced stream refills its queue before every write; given the
/// storage of an earlier batch at once, the actors' sends into it do not grow
/// it frame by frame (a few allocations in the actor's thread and frees on
/// the I/O thread's arena per write). Bounded: a thread keeps at most
/// max_spare vectors of up to max_frames frames.
namespace batch_pool {
constexpr size_t max_spare = 256;
constexpr size_t max_frames = 64;
/// Never allocates: an empty vector when no spare storage is left.
std::vector<frame> take();
/// Frees the frames of `v` now and keeps its storage if there is room.
void recycle(std::vector<frame>&& v);
/// Spare vectors this thread holds.
size_t spare();
} // namespace batch_pool

} // namespace tickgate::net
