#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "actors/vocabulary.hpp"

namespace tickgate {

/// How much of a topic's recent stream its topic actor keeps: at most `size`
/// events, none older than `ttl`. size 0: none (positions still work).
struct history_limits {
  size_t size = 100;
  std::chrono::milliseconds ttl{120'000};
};

/// One `history.rules` entry: topics matching `pattern` (glob_match in
/// proto/topic_name.hpp: `*` matches any run of characters) keep `limits`.
struct history_rule {
  std::string pattern;
  history_limits limits;
};

/// Bytes retained by every topic of the node, against `history.max-bytes`.
/// Topics add and remove their own events' bytes; the topic whose append
/// takes the node over the cap evicts its oldest events until it is under.
class history_budget {
public:
  explicit history_budget(size_t max_bytes) : max_(max_bytes) {
  }
  void add(size_t n) { bytes_.fetch_add(static_cast<int64_t>(n), std::memory_order_relaxed); }
  void remove(size_t n) { bytes_.fetch_sub(static_cast<int64_t>(n), std::memory_order_relaxed); }
  bool over() const { return bytes_.load(std::memory_order_relaxed) > static_cast<int64_t>(max_); }
  int64_t bytes() const { return bytes_.load(std::memory_order_relaxed); }
  size_t max_bytes() const { return max_; }

private:
  std::atomic<int64_t> bytes_{0};
  size_t max_;
};

/// The node's history configuration (configs/tickgate.ini, [history]).
struct history_settings {
  std::vector<history_rule> rules; // the first match wins
  history_limits fallback;         // topics no rule matches
  std::shared_ptr<history_budget> budget = std::make_shared<history_budget>(size_t{256} << 20);

  history_limits for_topic(std::string_view topic) const;
};

/// Parses one rule, `<pattern>=size:<n>,ttl:<duration>` (either part may be
/// left out; durations like 500ms, 30s, 5min, 2h). nullopt and `error` set
/// when it is malformed.
std::optional<history_rule> parse_history_rule(std::string_view text, std::string& error);

/// What an append or expiry evicted, by reason.
struct history_evictions {
  uint64_t size = 0;  // the ring was full
  uint64_t age = 0;   // older than the TTL
  uint64_t bytes = 0; // the node's byte cap
};

/// One topic's retained events, oldest first: a ring bounded by count and
/// age, plus the latest snapshot event, which stays after the ring rolled
/// past it (until a newer snapshot replaces it or the topic ends). Times are
/// passed in, so tests drive the clock.
class topic_history {
public:
  using clock = std::chrono::steady_clock;

  topic_history(history_limits limits, std::shared_ptr<history_budget> budget);
  ~topic_history();
  topic_history(const topic_history&) = delete;
  topic_history& operator=(const topic_history&) = delete;

  /// Retains `pub` as event `seq` (seqs only grow) received at `now`.
  history_evictions append(uint64_t seq, publication_ptr pub, clock::time_point now);
  /// Drops events older than the TTL.
  history_evictions expire(clock::time_point now);
  /// Drops everything (a new epoch begins).
  void clear();

  /// True if every event after `seq` (up to `last_seq`, the topic's last)
  /// is retained, so a client that saw `seq` can continue without a gap.
  bool covers(uint64_t seq, uint64_t last_seq) const;
  /// The retained events after `seq`, oldest first, at most `limit`.
  std::vector<retained_event> after(uint64_t seq, size_t limit = SIZE_MAX) const;
  /// The `n` most recent retained events, oldest first.
  std::vector<retained_event> last(size_t n) const;
  /// The latest snapshot event and every retained event after it (none if
  /// no snapshot was published).
  std::vector<retained_event> from_snapshot() const;
  /// The most recent event (the snapshot if nothing newer is retained).
  std::optional<retained_event> latest() const;

  size_t count() const { return ring_.size(); }
  size_t bytes() const { return bytes_; }
  const history_limits& limits() const { return limits_; }
  /// When the newest retained event arrived (nullopt: none retained).
  std::optional<clock::time_point> newest_at() const;
  /// When the retained snapshot arrived (nullopt: none).
  std::optional<clock::time_point> snapshot_at() const;

  /// Memory one retained event costs besides its payload and topic name:
  /// the ring entry, the publication and its shared block.
  static size_t overhead();

private:
  struct entry {
    uint64_t seq;
    publication_ptr pub;
    clock::time_point at;
  };
  static size_t cost(const entry& e);
  void drop_front();
  void charge(size_t n);
  void refund(size_t n);

  history_limits limits_;
  std::shared_ptr<history_budget> budget_;
  std::deque<entry> ring_;
  std::optional<entry> snapshot_;
  size_t bytes_ = 0;
};

} // namespace tickgate
