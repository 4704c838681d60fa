#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "actors/topic_membership.hpp"

namespace tickgate {

/// Immutable bytes with a shared reference count, like
/// std::shared_ptr<const std::string>, plus what fan-out needs: reserve(n)
/// takes n references in one atomic step and adopt() hands them out one by
/// one without touching the count. A topic sending one frame to a thousand
/// clients changes the count once instead of once per client while the I/O
/// thread releases written copies of the same count on the other core. The
/// size is kept in the handle, so queueing a frame does not read the shared
/// block either.
class shared_bytes {
public:
  shared_bytes() = default;
  explicit shared_bytes(std::string bytes)
    : block_(new block{{1}, std::move(bytes)}), size_(block_->bytes.size()) {
  }
  shared_bytes(const shared_bytes& other) noexcept : block_(other.block_), size_(other.size_) {
    if (block_)
      block_->refs.fetch_add(1, std::memory_order_relaxed);
  }
  shared_bytes(shared_bytes&& other) noexcept
    : block_(std::exchange(other.block_, nullptr)), size_(std::exchange(other.size_, 0)) {
  }
  shared_bytes& operator=(shared_bytes other) noexcept {
    std::swap(block_, other.block_);
    std::swap(size_, other.size_);
    return *this;
  }
  ~shared_bytes() { release(block_, 1); }

  const std::string& operator*() const { return block_->bytes; }
  const std::string* operator->() const { return &block_->bytes; }
  explicit operator bool() const { return block_ != nullptr; }
  size_t size() const { return size_; }
  /// Handles and reserved references sharing the bytes (0 for none).
  size_t use_count() const { return block_ ? block_->refs.load(std::memory_order_relaxed) : 0; }

  /// Takes `n` more references at once, for adopt() or unreserve(). These
  /// three need a handle that holds bytes.
  void reserve(size_t n) const {
    block_->refs.fetch_add(n, std::memory_order_relaxed);
  }
  /// A copy that owns one of the references reserve() took.
  shared_bytes adopt() const { return shared_bytes{block_, size_}; }
  /// Gives back `n` references reserve() took and adopt() did not hand out.
  void unreserve(size_t n) const { release(block_, n); }

private:
  struct block {
    std::atomic<size_t> refs;
    std::string bytes;
  };
  shared_bytes(block* b, size_t size) : block_(b), size_(size) {
  }
  static void release(block* b, size_t n) {
    if (b != nullptr && n > 0 && b->refs.fetch_sub(n, std::memory_order_acq_rel) == n)
      delete b;
  }

  block* block_ = nullptr;
  size_t size_ = 0;
};

/// Encoded bytes of one WebSocket message, shared by every subscriber that
/// receives them. Immutable once built.
struct frame {
  shared_bytes bytes;
  bool binary = false;
  int64_t ts_us = 0; // events: publish acceptance time, for the publish-to-write latency
  // Events: the stream (topic) they belong to, an id unique on the node for
  // the topic actor's life; a slow client's queue under the conflate policy
  // keeps only the newest event of each stream. 0: not conflated (replies,
  // status frames).
  uint64_t stream = 0;
};

inline frame make_frame(std::string bytes, bool binary) {
  return frame{shared_bytes{std::move(bytes)}, binary};
}

/// What a session reports about its client (tickgatectl connections).
struct sink_stats {
  std::string addr;        // peer address:port
  std::string dialect;     // of the listener path
  uint64_t queued_frames = 0;
  uint64_t queued_bytes = 0;
  uint64_t frames_out = 0; // written to the socket
  uint64_t bytes_out = 0;
  int64_t last_in_us = 0;  // last client frame (0: none yet)
};

enum class send_result : uint8_t {
  queued,   // the frame will be written
  closed,   // the session is closed or closing; the frame was discarded
  overflow, // the outbound queue limit was hit: the session now closes as a slow consumer
};

/// The only way actors reach a client socket. Implemented by net/ (one per
/// WebSocket session) and by fakes in tests. Every member is thread-safe and
/// never blocks on I/O.
class session_sink {
public:
  virtual ~session_sink() = default;

  /// Queues `f` behind the frames already queued for this client (by
  /// value: a caller done with its frame moves it in, and the bytes' count
  /// is not touched).
  virtual send_result send(frame f) = 0;

  /// Starts a close handshake with `code` and `reason`; later sends are discarded.
  virtual void close(uint16_t code, std::string_view reason) = 0;

  virtual sink_stats stats() const { return {}; }

  /// The connection actor has processed one of the decoded client messages
  /// the session handed it (a command or an error to answer); called once
  /// per message, first thing in its handler. The session stops reading its
  /// client while too many are unprocessed (inbound backpressure).
  virtual void command_done() {}

  /// The topics this client follows, where the node keeps them
  /// (topic_membership.hpp); null otherwise. Its connection actor sets it
  /// before its first subscribe and never replaces it, so the topics that
  /// later receive this sink read the pointer without a lock.
  std::unique_ptr<topic_membership> membership;
};

using session_sink_ptr = std::shared_ptr<session_sink>;


} // namespace tickgate
