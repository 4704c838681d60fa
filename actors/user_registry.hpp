#pragma once

#include <array>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace tickgate {

/// How many subscriptions each authenticated user holds on this node, across
/// all of that user's connections (limits.max-channels-per-user). Connections
/// take and give back through their user_quota when a subscription starts or
/// ends; nothing here runs per delivered event.
///
/// Thread-safe: connection actors run on any thread. Users are spread over
/// 16 shards, a mutex and a map each, so subscribes of different users
/// seldom wait on one lock. Invariant: a user has an entry exactly while its
/// count is above 0.
class user_registry {
public:
  /// `limit`: most subscriptions per user; 0: no limit (counts are kept).
  explicit user_registry(size_t limit);

  size_t limit() const { return limit_; }

  /// Adds `n` to `user`'s count unless that passes the limit; false (and
  /// nothing changes) then.
  bool try_add(const std::string& user, size_t n);

  /// Adds `n` whatever the limit: subscriptions a connection made before it
  /// proved this identity count from then on.
  void add(const std::string& user, size_t n);

  /// Takes `n` off `user`'s count (never below 0).
  void remove(const std::string& user, size_t n);

  size_t count(const std::string& user) const;

private:
  struct shard {
    mutable std::mutex mtx;
    std::unordered_map<std::string, size_t> counts;
  };
  shard& shard_of(const std::string& user) const;

  const size_t limit_;
  mutable std::array<shard, 16> shards_;
};

/// One connection's part of its user's count: the counted subscriptions it
/// holds, under the identity it proves now. Owned by the connection actor's
/// state, so whichever way the actor ends (closed, kicked, failed) the
/// destructor gives its part back.
class user_quota {
public:
  user_quota() = default;
  ~user_quota();
  user_quota(const user_quota&) = delete;
  user_quota& operator=(const user_quota&) = delete;

  /// Counts from now on into `registry` (null: locally only). Call before
  /// anything is held.
  void use(std::shared_ptr<user_registry> registry);

  /// Takes `n` more for the current user; false, taking nothing, when that
  /// passes the user's limit. Anonymous connections always get them.
  bool take(size_t n);

  void give_back(size_t n);

  /// The connection proves `user` now (empty: anonymous): what it holds
  /// moves to that user's count.
  void become(const std::string& user);

  size_t held() const { return held_; }
  /// The current user's count on this node (0 when anonymous).
  size_t user_count() const;
  size_t limit() const { return registry_ ? registry_->limit() : 0; }

private:
  std::shared_ptr<user_registry> registry_;
  std::string user_; // empty: anonymous, nothing registered
  size_t held_ = 0;
};

} // namespace tickgate
