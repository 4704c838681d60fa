#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <sys/types.h>

namespace tickgate::net {

/// Socket sends made together: the writes of one flush pass, each to its own
/// socket, go to the kernel in one system call (io_uring) instead of one
/// `send` each. Much of a small loopback `send`'s cost is entering the
/// kernel, so sends made together cost less each (the figures are in
/// tools/tickgate-bench/README.md, "How the write path is built").
///
/// Every send is non-blocking (MSG_DONTWAIT): it takes what the socket has
/// room for now and completes within the call, like `send`. Where the kernel
/// refuses io_uring (an old kernel, a sandbox), or for a batch of one, each
/// request is an ordinary `send`.
class send_batch {
public:
  struct request {
    int fd = -1;
    const char* data = nullptr;
    size_t size = 0;
    int flags = 0; // added to MSG_DONTWAIT | MSG_NOSIGNAL (MSG_MORE)
  };

  /// At most `max_batch` sends per system call; 0 or 1: plain sends only.
  explicit send_batch(unsigned max_batch);
  ~send_batch();
  send_batch(const send_batch&) = delete;
  send_batch& operator=(const send_batch&) = delete;

  /// Whether sends go out together (io_uring is there and allowed).
  bool batching() const { return ring_ != nullptr; }

  /// Sends every request now, without blocking; at most one request per
  /// descriptor (requests to one socket are not ordered among themselves).
  /// results[i]: bytes written (possibly fewer than asked), or -errno
  /// (-EAGAIN: no room at all). Returns how many went out together.
  size_t send_all(std::span<const request> requests, std::span<ssize_t> results);

  /// How many requests one system call takes at most.
  unsigned max_batch() const { return max_; }

private:
  // Sends through the ring; returns how many requests have results (all of
  // them, unless the ring broke: then the rest are sent one by one).
  size_t send_through_ring(std::span<const request> requests, std::span<ssize_t> results);

  struct ring;
  std::unique_ptr<ring> ring_;
  unsigned max_ = 1;
};

/// One non-blocking `send`, retried on EINTR: bytes written or -errno.
ssize_t send_once(const send_batch::request& r);

} // namespace tickgate::net
