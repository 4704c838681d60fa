#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

#include "actors/session_sink.hpp"

namespace tickgate {

/// What a relay (actors/relay_actor) holds toward its following node: the
/// frames topics handed it since the relay actor last sent, and how many
/// sent frames the follower has not yet confirmed. Topics add from their
/// own threads; the relay actor takes everything queued in one go and sends
/// it as one message, so frames are batched exactly when events come faster
/// than the relay actor runs (one frame per message when it keeps up).
///
/// The window bounds what can pile up toward a slow or stalled node (CAF's
/// remote sends have no back-pressure of their own): once `window` frames
/// are queued or unconfirmed, further frames are dropped. The follower sees
/// the gap at the next frame it gets, or at the position the relay sends
/// once the window has room again (resync_due), and its topic's subscribers
/// a reset.
/// Thread-safe.
class relay_outbox {
public:
  explicit relay_outbox(size_t window) : window_(window) {}

  enum class added {
    first,   // the first frame since the last take: ask the relay actor to send
    queued,  // a send is already asked for
    dropped, // the window is full
  };

  added add(shared_bytes frame) {
    std::lock_guard<std::mutex> guard{mtx_};
    if (in_flight_ + pending_.size() >= window_) {
      lost_ = true;
      return added::dropped;
    }
    pending_.push_back(std::move(frame));
    if (send_asked_)
      return added::queued;
    send_asked_ = true;
    return added::first;
  }

  /// Everything queued, oldest first; counted as in flight until confirmed.
  std::vector<shared_bytes> take() {
    std::lock_guard<std::mutex> guard{mtx_};
    std::vector<shared_bytes> out;
    out.swap(pending_);
    send_asked_ = false;
    in_flight_ += out.size();
    return out;
  }

  /// The follower handed `n` more frames on.
  void confirmed(uint64_t n) {
    std::lock_guard<std::mutex> guard{mtx_};
    in_flight_ -= std::min<uint64_t>(n, in_flight_);
  }

  /// True once after frames were dropped, as soon as the window has room
  /// again: the relay then tells the follower each topic's position, so its
  /// subscribers hear of the gap even if no event follows it.
  bool resync_due() {
    std::lock_guard<std::mutex> guard{mtx_};
    if (!lost_ || in_flight_ + pending_.size() >= window_)
      return false;
    lost_ = false;
    return true;
  }

  uint64_t in_flight() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return in_flight_;
  }

private:
  const size_t window_;
  mutable std::mutex mtx_;
  std::vector<shared_bytes> pending_;
  bool send_asked_ = false;
  bool lost_ = false;
  uint64_t in_flight_ = 0;
};

/// How often a following node confirms relay frames: every this many, and
/// on its follow tick (every second) for the rest.
constexpr uint64_t relay_confirm_every = 64;

} // namespace tickgate
