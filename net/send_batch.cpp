#include "net/send_batch.hpp"

#include <algorithm>
#include <cerrno>

#include <liburing.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

namespace tickgate::net {

struct send_batch::ring {
  io_uring uring{};
};

send_batch::send_batch(unsigned max_batch) {
  if (max_batch <= 1)
    return;
  auto r = std::make_unique<ring>();
  // SUBMIT_ALL (Linux 5.18): a request the kernel rejects at submission (a
  // bad descriptor) gets its own error result and does not stop the rest, so
  // every request of a submission completes in it. Without it, no ring.
  int err = io_uring_queue_init(max_batch, &r->uring, IORING_SETUP_SUBMIT_ALL);
  if (err < 0) {
    spdlog::info("net.send_batch io_uring unavailable ({}): one send per write", -err);
    return;
  }
  ring_ = std::move(r);
  max_ = max_batch;
}

send_batch::~send_batch() {
  if (ring_)
    io_uring_queue_exit(&ring_->uring);
}

ssize_t send_once(const send_batch::request& r) {
  for (;;) {
    auto n = ::send(r.fd, r.data, r.size, MSG_DONTWAIT | MSG_NOSIGNAL | r.flags);
    if (n >= 0)
      return n;
    if (errno != EINTR)
      return -errno;
  }
}

size_t send_batch::send_all(std::span<const request> requests, std::span<ssize_t> results) {
  size_t done = 0;
  if (ring_ && requests.size() > 1)
    done = send_through_ring(requests, results);
  for (size_t i = done; i < requests.size(); ++i)
    results[i] = send_once(requests[i]);
  return done;
}

size_t send_batch::send_through_ring(std::span<const request> requests,
                                     std::span<ssize_t> results) {
  auto* uring = &ring_->uring;
  size_t from = 0;
  while (from < requests.size()) {
    auto n = std::min<size_t>(max_, requests.size() - from);
    for (size_t i = 0; i < n; ++i) {
      auto& r = requests[from + i];
      auto* sqe = io_uring_get_sqe(uring); // the ring is empty here: never null
      // MSG_DONTWAIT: no room means -EAGAIN now, not a send parked in the
      // kernel; so every request completes within the submission.
      io_uring_prep_send(sqe, r.fd, r.data, r.size, MSG_DONTWAIT | MSG_NOSIGNAL | r.flags);
      io_uring_sqe_set_data64(sqe, from + i);
      results[from + i] = -EIO; // until its completion says otherwise
    }
    int submitted;
    do
      submitted = io_uring_submit_and_wait(uring, static_cast<unsigned>(n));
    while (submitted == -EINTR);
    // Requests go in in order: the first `submitted` are in the kernel.
    auto in = static_cast<size_t>(std::clamp(submitted, 0, static_cast<int>(n)));
    size_t reaped = 0;
    bool broken = in != n;
    while (reaped < in) {
      io_uring_cqe* cqe = nullptr;
      int err = io_uring_wait_cqe(uring, &cqe);
      if (err == -EINTR)
        continue;
      if (err < 0 || io_uring_cqe_get_data64(cqe) - from >= in) {
        broken = true;
        break;
      }
      results[io_uring_cqe_get_data64(cqe)] = cqe->res;
      io_uring_cqe_seen(uring, cqe);
      ++reaped;
    }
    if (broken) {
      // Not expected with SUBMIT_ALL (the kernel short of memory). Closing
      // the ring discards the requests it did not take, which are then sent
      // one by one; one that went in without a result fails its connection
      // (EIO, set above: whether it was sent is unknown). From now on every
      // write is its own send.
      spdlog::warn("net.send_batch io_uring failed (submitted {} of {}): one send per write from now on",
                   submitted, n);
      io_uring_queue_exit(uring);
      ring_.reset();
      max_ = 1;
      for (size_t i = in; i < n; ++i)
        results[from + i] = send_once(requests[from + i]);
      return from + n;
    }
    from += n;
  }
  return from;
}

} // namespace tickgate::net
