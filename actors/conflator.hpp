#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

namespace tickgate {

/// Conflation of one topic's events for its throttled subscribers (those
/// that subscribed with `throttle_ms`): subscribers that asked for the same
/// interval T form a group, and each group, not each subscriber, is
/// conflated, so a topic encodes one frame per group and send instead of one
/// per client. Per group:
///   - at most one event per T;
///   - the first event after a quiet interval (T or more since the group's
///     last send) goes out at once;
///   - an event within T of the last send is held; a newer one replaces it
///     (the replaced one is counted as conflated and never delivered);
///   - the held event goes out once T has passed since the last send, so
///     the newest value is never held back longer than T.
/// A subscriber joining an existing group shares its cadence: its first
/// event comes with the group's next send, at most T later.
///
/// Pure and clock-injected: the caller passes `now` (steady_clock) and owns
/// the timers. Whenever a step's `arm` is set, the caller schedules a timer
/// for that time and calls on_timer(now) when it fires. A timer that finds
/// nothing due (early, stale, or for a group that is gone) is harmless: it
/// only schedules what is still needed. Not thread-safe (one topic actor).
///
/// `Key` names a subscriber (copyable, ==; the topic uses its connection's
/// actor id). `Held` is what an event is kept as while held (the topic's
/// publication with its seq); it is copied into a group's slot when held.
template <class Key, class Held>
class conflator {
public:
  using clock = std::chrono::steady_clock;
  using time_point = clock::time_point;
  using duration = clock::duration;

  /// The subscribers that asked for one interval, with their shared cadence.
  class group {
  public:
    duration interval() const { return interval_; }
    const std::vector<Key>& members() const { return members_; }
    bool holding() const { return held_.has_value(); }
    /// The earliest time the group may send again (its held event is due then).
    time_point next_send() const { return last_sent_ + interval_; }

  private:
    friend class conflator;
    explicit group(duration interval) : interval_(interval) {
    }

    duration interval_;
    std::vector<Key> members_; // never empty: a group leaves with its last member
    // Before the first send: a time so far back that the first event is
    // always after a quiet interval.
    time_point last_sent_ = time_point::min();
    std::optional<Held> held_;
  };

  /// What one on_event or on_timer did.
  struct step {
    size_t sent = 0;             // groups the event (or their held one) went to
    size_t held = 0;             // on_event: groups now holding the event
    uint64_t conflated = 0;      // held events replaced by newer ones, never delivered
    std::optional<time_point> arm; // schedule a timer for this time (none: no new one needed)
  };

  /// Adds subscriber `key` to the group of `interval`, made if needed.
  /// `key` must not be in any group yet (remove it first to change interval).
  void add(Key key, duration interval) {
    auto g = std::find_if(groups_.begin(), groups_.end(),
                          [&](const group& x) { return x.interval_ == interval; });
    if (g == groups_.end()) {
      groups_.push_back(group{interval});
      g = groups_.end() - 1;
    }
    g->members_.push_back(std::move(key));
  }

  /// Removes `key` from its group; the group's last member takes the group
  /// and its held event with it (nobody is left to miss it, so it is not
  /// counted as conflated). False if `key` was in no group. Linear in the
  /// number of throttled subscribers.
  bool remove(const Key& key) {
    for (auto g = groups_.begin(); g != groups_.end(); ++g) {
      auto& m = g->members_;
      auto i = std::find(m.begin(), m.end(), key);
      if (i == m.end())
        continue;
      *i = std::move(m.back());
      m.pop_back();
      if (m.empty())
        groups_.erase(g);
      return true;
    }
    return false;
  }

  /// A new event `ev` at `now`. Calls `send(const group&, const Held&)` for
  /// each group it goes to at once (all with the same `ev`, so one encoding
  /// serves them all); the other groups hold it. Do not add or remove
  /// subscribers from inside `send`.
  template <class Send>
  step on_event(const Held& ev, time_point now, Send&& send) {
    step s;
    for (auto& g : groups_) {
      if (now >= g.next_send()) {
        // A quiet interval, or a held event whose timer has not run yet:
        // this newer event goes out in its place.
        if (g.held_) {
          g.held_.reset();
          ++s.conflated;
        }
        g.last_sent_ = now;
        ++s.sent;
        send(std::as_const(g), ev);
      } else if (g.held_) {
        *g.held_ = ev;
        ++s.conflated;
      } else {
        g.held_.emplace(ev);
        ++s.held;
      }
    }
    conflated_ += s.conflated;
    s.arm = arm(now);
    return s;
  }

  /// One of the timers a step asked for fired at `now`. Calls
  /// `send(const group&, const Held&)` for each group whose held event is
  /// due. Same rule for `send` as on_event.
  template <class Send>
  step on_timer(time_point now, Send&& send) {
    step s;
    // Whichever timer this is, the caller no longer counts on the one armed
    // last; what is still needed is asked for again below.
    armed_.reset();
    for (auto& g : groups_) {
      if (!g.held_ || now < g.next_send())
        continue;
      g.last_sent_ = now;
      ++s.sent;
      send(std::as_const(g), std::as_const(*g.held_));
      g.held_.reset();
    }
    s.arm = arm(now);
    return s;
  }

  bool empty() const { return groups_.empty(); }
  const std::vector<group>& groups() const { return groups_; }
  /// Events replaced while held, since the start (for inspection).
  uint64_t conflated() const { return conflated_; }

private:
  // The time a timer must fire for the earliest held event, if no timer
  // already asked for fires by then.
  std::optional<time_point> arm(time_point now) {
    std::optional<time_point> due;
    for (auto& g : groups_)
      if (g.held_ && (!due || g.next_send() < *due))
        due = g.next_send();
    if (!due || (armed_ && *armed_ <= *due))
      return std::nullopt;
    armed_ = std::max(*due, now);
    return armed_;
  }

  std::vector<group> groups_;            // one per distinct interval, in no order
  std::optional<time_point> armed_;      // the earliest timer asked for and not yet fired
  uint64_t conflated_ = 0;
};

} // namespace tickgate
