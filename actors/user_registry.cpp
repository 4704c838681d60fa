#include "actors/user_registry.hpp"

#include <algorithm>
#include <functional>

namespace tickgate {

user_registry::user_registry(size_t limit) : limit_(limit) {
}

user_registry::shard& user_registry::shard_of(const std::string& user) const {
  return shards_[std::hash<std::string>{}(user) % shards_.size()];
}

bool user_registry::try_add(const std::string& user, size_t n) {
  auto& s = shard_of(user);
  std::lock_guard<std::mutex> guard{s.mtx};
  auto it = s.counts.find(user);
  size_t now = it == s.counts.end() ? 0 : it->second;
  if (limit_ > 0 && now + n > limit_)
    return false;
  if (n > 0)
    s.counts[user] = now + n;
  return true;
}

void user_registry::add(const std::string& user, size_t n) {
  if (n == 0)
    return;
  auto& s = shard_of(user);
  std::lock_guard<std::mutex> guard{s.mtx};
  s.counts[user] += n;
}

void user_registry::remove(const std::string& user, size_t n) {
  auto& s = shard_of(user);
  std::lock_guard<std::mutex> guard{s.mtx};
  auto it = s.counts.find(user);
  if (it == s.counts.end())
    return;
  it->second -= std::min(it->second, n);
  if (it->second == 0)
    s.counts.erase(it);
}

size_t user_registry::count(const std::string& user) const {
  auto& s = shard_of(user);
  std::lock_guard<std::mutex> guard{s.mtx};
  auto it = s.counts.find(user);
  return it == s.counts.end() ? 0 : it->second;
}

user_quota::~user_quota() {
  if (registry_ && !user_.empty())
    registry_->remove(user_, held_);
}

void user_quota::use(std::shared_ptr<user_registry> registry) {
  registry_ = std::move(registry);
}

bool user_quota::take(size_t n) {
  if (registry_ && !user_.empty() && !registry_->try_add(user_, n))
    return false;
  held_ += n;
  return true;
}

void user_quota::give_back(size_t n) {
  n = std::min(n, held_);
  held_ -= n;
  if (registry_ && !user_.empty())
    registry_->remove(user_, n);
}

void user_quota::become(const std::string& user) {
  if (user == user_)
    return;
  if (registry_ && !user_.empty())
    registry_->remove(user_, held_);
  user_ = user;
  if (registry_ && !user_.empty())
    registry_->add(user_, held_);
}

size_t user_quota::user_count() const {
  return registry_ && !user_.empty() ? registry_->count(user_) : 0;
}

} // namespace tickgate
