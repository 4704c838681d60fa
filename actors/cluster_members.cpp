#include "actors/cluster_members.hpp"

#include <algorithm>

namespace tickgate {

namespace {

// FNV-1a over the member name, a separator and the topic, then a 64-bit
// finalizer (splitmix64) so that similar names spread: the same on every
// node and build, unlike std::hash.
uint64_t rendezvous_score(std::string_view name, std::string_view topic) {
  uint64_t h = 1469598103934665603ull;
  auto mix = [&](std::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ull;
    }
  };
  mix(name);
  mix(std::string_view{"\0", 1});
  mix(topic);
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  h ^= h >> 31;
  return h;
}

} // namespace

const std::string& home_of(std::string_view topic, const std::vector<std::string>& names) {
  const std::string* best = &names.front();
  uint64_t best_score = rendezvous_score(*best, topic);
  for (auto& n : names) {
    auto score = rendezvous_score(n, topic);
    if (score > best_score || (score == best_score && n < *best)) {
      best = &n;
      best_score = score;
    }
  }
  return *best;
}

const char* to_string(member_state s) {
  switch (s) {
    case member_state::up: return "up";
    case member_state::leaving: return "leaving";
    case member_state::down: return "down";
  }
  return "down";
}

cluster_members::admission cluster_members::admit(const member_card& card, caf::actor handle,
                                                  time_point now) {
  if (card.name == self_)
    return admission::name_taken;
  auto it = std::find_if(members_.begin(), members_.end(),
                         [&](const member& m) { return m.card.name == card.name; });
  if (it == members_.end()) {
    members_.push_back(member{card, member_state::up, std::move(handle), now, now});
    std::sort(members_.begin(), members_.end(),
              [](const member& a, const member& b) { return a.card.name < b.card.name; });
    return admission::admitted;
  }
  if (it->handle == handle) {
    it->card = card;
    it->last_beat = now;
    if (it->state != member_state::up) {
      it->state = member_state::up;
      it->since = now;
      return admission::admitted;
    }
    return admission::refreshed;
  }
  if (it->state == member_state::up)
    return admission::name_taken;
  *it = member{card, member_state::up, std::move(handle), now, now};
  return admission::admitted;
}

cluster_members::member* cluster_members::by_handle(const caf::actor_addr& handle) {
  auto it = std::find_if(members_.begin(), members_.end(),
                         [&](const member& m) { return m.handle.address() == handle; });
  return it == members_.end() ? nullptr : &*it;
}

cluster_members::member* cluster_members::beat(const caf::actor_addr& handle,
                                               const member_card& card, time_point now,
                                               bool* was_down) {
  auto m = by_handle(handle);
  if (!m || card.name != m->card.name)
    return nullptr;
  m->card = card;
  m->last_beat = now;
  if (was_down)
    *was_down = m->state == member_state::down;
  if (m->state == member_state::down) {
    m->state = member_state::up;
    m->since = now;
  }
  return m;
}

cluster_members::member* cluster_members::leaving(const caf::actor_addr& handle, time_point now) {
  auto m = by_handle(handle);
  if (m && m->state != member_state::leaving) {
    m->state = member_state::leaving;
    m->since = now;
    m->last_beat = now;
  }
  return m;
}

cluster_members::loss cluster_members::lost(const caf::actor_addr& handle, time_point now,
                                            std::string* name) {
  auto m = by_handle(handle);
  if (!m)
    return loss::unknown;
  if (name)
    *name = m->card.name;
  switch (m->state) {
    case member_state::leaving:
      members_.erase(members_.begin() + (m - members_.data()));
      return loss::left;
    case member_state::up:
      m->state = member_state::down;
      m->since = now;
      return loss::failed;
    case member_state::down:
      break;
  }
  return loss::unknown;
}

std::vector<std::string> cluster_members::sweep(time_point now, clock::duration failure_timeout,
                                                clock::duration forget_after) {
  std::vector<std::string> failed;
  for (auto& m : members_)
    if (m.state == member_state::up && now - m.last_beat >= failure_timeout) {
      m.state = member_state::down;
      m.since = now;
      failed.push_back(m.card.name);
    }
  members_.erase(std::remove_if(members_.begin(), members_.end(),
                                [&](const member& m) {
                                  return (m.state == member_state::leaving
                                          && now - m.last_beat >= failure_timeout)
                                         || (m.state == member_state::down
                                             && now - m.since >= forget_after);
                                }),
                 members_.end());
  return failed;
}

std::vector<const cluster_members::member*> cluster_members::all() const {
  std::vector<const member*> out;
  for (auto& m : members_)
    out.push_back(&m);
  return out;
}

const cluster_members::member* cluster_members::find(const std::string& name) const {
  for (auto& m : members_)
    if (m.card.name == name)
      return &m;
  return nullptr;
}

std::vector<member_card> cluster_members::up_cards() const {
  std::vector<member_card> out;
  for (auto& m : members_)
    if (m.state == member_state::up)
      out.push_back(m.card);
  return out;
}

std::vector<caf::actor> cluster_members::up_handles() const {
  std::vector<caf::actor> out;
  for (auto& m : members_)
    if (m.state == member_state::up)
      out.push_back(m.handle);
  return out;
}

bool cluster_members::is_up_at(const std::string& address) const {
  return std::any_of(members_.begin(), members_.end(), [&](const member& m) {
    return m.state == member_state::up && m.card.address == address;
  });
}

size_t cluster_members::count(member_state s) const {
  return static_cast<size_t>(std::count_if(members_.begin(), members_.end(),
                                           [&](const member& m) { return m.state == s; }));
}

} // namespace tickgate
