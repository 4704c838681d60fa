#include "net/outbound_queue.hpp"

#include <algorithm>
#include <bit>
#include <iterator>
#include <mutex>

namespace tickgate::net {

outbound_queue::push_result outbound_queue::push(frame f, const outbound_limits& limits) {
  push_result r;
  auto size = f.bytes.size();
  std::lock_guard<queue_lock> guard{lock_};
  if (closed_) {
    r.result = send_result::closed;
    return r;
  }
  if (!fits(size, limits)) {
    if (limits.policy == slow_policy::conflate) {
      r.conflated = conflate_events(f.stream);
      if (!fits(size, limits) || crowded(size, limits))
        r.dropped = drop_oldest_events(size, limits);
    } else if (limits.policy == slow_policy::drop_oldest) {
      r.dropped = drop_oldest_events(size, limits);
    }
  }
  if (fits(size, limits)) {
    frames_.push_back(std::move(f));
    queued_bytes_ += size;
    r.ask_flush = !flush_requested_;
    flush_requested_ = true;
    return r;
  }
  r.result = send_result::overflow;
  closed_ = true;
  r.frames = frames_.size();
  r.bytes = queued_bytes_;
  return r;
}

// Drops the oldest half of the queued events (frames with a publish time;
// replies to the client's requests stay), at least enough to make room for
// `incoming` bytes if events alone can. Half at a time, so a client that
// stays slow costs one pass per many sends, not one per send.
size_t outbound_queue::drop_oldest_events(size_t incoming, const outbound_limits& limits) {
  size_t events = 0;
  for (auto& q : frames_)
    events += q.ts_us > 0 ? 1 : 0;
  size_t target = std::max<size_t>(1, events / 2);
  size_t dropped = 0;
  std::vector<frame> kept;
  kept.reserve(frames_.size());
  for (auto& q : frames_) {
    bool room = frames_.size() - dropped < limits.max_messages
                && queued_bytes_ + incoming <= limits.max_bytes;
    if (q.ts_us > 0 && (dropped < target || !room)) {
      queued_bytes_ -= q.bytes.size();
      ++dropped;
      continue;
    }
    kept.push_back(std::move(q));
  }
  frames_.swap(kept);
  return dropped;
}

namespace {

// The streams seen in one conflation pass: open addressing over a table that
// each thread keeps (so a pass allocates nothing once the table has grown to
// the queue's size). 0 marks a free slot: stream 0 is never conflated.
class stream_set {
public:
  explicit stream_set(size_t n) {
    size_t size = 16;
    while (size < 2 * n)
      size *= 2;
    shift_ = 64 - static_cast<unsigned>(std::countr_zero(size));
    table_.assign(size, 0);
  }
  /// True if `s` (not 0) was not in the set; it is now.
  bool insert(uint64_t s) {
    auto mask = table_.size() - 1;
    for (auto i = (s * 0x9E3779B97F4A7C15ull) >> shift_;; i = (i + 1) & mask) {
      if (table_[i] == s)
        return false;
      if (table_[i] == 0) {
        table_[i] = s;
        return true;
      }
    }
  }

private:
  static inline thread_local std::vector<uint64_t> storage;
  std::vector<uint64_t>& table_ = storage;
  unsigned shift_ = 0;
};

} // namespace

// Keeps only the newest queued event of each stream; for `incoming_stream`
// that is the frame being pushed. One pass from the newest back; what stays
// keeps its order.
size_t outbound_queue::conflate_events(uint64_t incoming_stream) {
  stream_set seen{frames_.size() + 1};
  if (incoming_stream != 0)
    seen.insert(incoming_stream);
  size_t dropped = 0;
  for (auto i = frames_.size(); i-- > 0;) {
    auto& q = frames_[i];
    if (q.stream == 0 || seen.insert(q.stream))
      continue;
    queued_bytes_ -= q.bytes.size();
    q = frame{}; // no bytes: removed below
    ++dropped;
  }
  if (dropped > 0)
    std::erase_if(frames_, [](const frame& q) { return !q.bytes; });
  return dropped;
}

outbound_queue::take_result outbound_queue::take(bool budget, size_t max_bytes,
                                                 std::vector<frame>& batch,
                                                 std::vector<frame>& refill,
                                                 size_t& batch_bytes) {
  std::lock_guard<queue_lock> guard{lock_};
  if (!budget) {
    if (frames_.empty()) {
      flush_requested_ = false;
      return take_result::idle;
    }
    return take_result::paced; // flush_requested_ stays: frames queued meanwhile wait for this
  }
  if (queued_bytes_ <= max_bytes) {
    batch_bytes = queued_bytes_;
    batch.swap(frames_);
    frames_.swap(refill); // refill now holds what the queue had: empty storage
    queued_bytes_ = 0;
    flush_requested_ = false;
    return take_result::all;
  }
  size_t taken = 0;
  size_t n = 0;
  while (n < frames_.size() && (n == 0 || taken + frames_[n].bytes.size() <= max_bytes))
    taken += frames_[n++].bytes.size();
  batch.assign(std::make_move_iterator(frames_.begin()),
               std::make_move_iterator(frames_.begin() + static_cast<std::ptrdiff_t>(n)));
  frames_.erase(frames_.begin(), frames_.begin() + static_cast<std::ptrdiff_t>(n));
  queued_bytes_ -= taken;
  batch_bytes = taken;
  return take_result::part; // flush_requested_ stays: the write's completion takes again
}

void outbound_queue::close(bool discard, std::vector<frame>& dropped) {
  std::lock_guard<queue_lock> guard{lock_};
  closed_ = true;
  if (discard) {
    dropped.swap(frames_); // a write in flight still completes
    queued_bytes_ = 0;
  }
}

void outbound_queue::note_written(size_t frames, uint64_t bytes) {
  std::lock_guard<queue_lock> guard{lock_};
  frames_out_ += frames;
  bytes_out_ += bytes;
}

outbound_queue::snapshot outbound_queue::stats() const {
  std::lock_guard<queue_lock> guard{lock_};
  return snapshot{frames_.size(), queued_bytes_, frames_out_, bytes_out_};
}

bool write_pacer::within_rate(double rate, clock::time_point now) {
  if (rate <= 0)
    return true;
  auto elapsed = std::chrono::duration<double>(now - topped_up_).count();
  tokens_ = static_cast<float>(std::min(burst(rate), static_cast<double>(tokens_) + elapsed * rate));
  topped_up_ = now;
  return tokens_ >= 1;
}

void write_pacer::spend(double rate, size_t frames) {
  tokens_ = static_cast<float>(
    std::max(-burst(rate), static_cast<double>(tokens_) - static_cast<double>(frames)));
}

namespace batch_pool {
namespace {
thread_local std::vector<std::vector<frame>> spares;
} // namespace

std::vector<frame> take() {
  std::vector<frame> v;
  if (!spares.empty()) {
    v = std::move(spares.back());
    spares.pop_back();
  }
  return v;
}

void recycle(std::vector<frame>&& v) {
  v.clear(); // releases the frames now
  if (v.capacity() > 0 && v.capacity() <= max_frames && spares.size() < max_spare)
    spares.push_back(std::move(v));
}

size_t spare() {
  return spares.size();
}
} // namespace batch_pool

} // namespace tickgate::net
