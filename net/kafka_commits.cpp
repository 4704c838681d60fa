#include "net/kafka_commits.hpp"

namespace tickgate::net {

void kafka_commit_tracker::add(uint64_t token, const kafka_partition& p, int64_t offset) {
  auto& st = partitions_[p];
  if (!st.runs.empty() && st.runs.back().token == token)
    st.runs.back().last_offset = offset;
  else
    st.runs.push_back(run{token, offset});
  unsealed_[token] = true;
}

void kafka_commit_tracker::seal(uint64_t token, unsigned confirmations) {
  unsealed_.erase(token);
  if (confirmations > 0)
    open_[token] = confirmations;
}

void kafka_commit_tracker::handed(uint64_t token) {
  auto it = open_.find(token);
  if (it == open_.end())
    return;
  if (--it->second == 0)
    open_.erase(it);
}

std::vector<kafka_commit> kafka_commit_tracker::take_commits() {
  std::vector<kafka_commit> out;
  for (auto& [p, st] : partitions_) {
    // A run is done when its token is sealed and has no confirmation due.
    while (!st.runs.empty() && !open_.contains(st.runs.front().token)
           && !unsealed_.contains(st.runs.front().token)) {
      st.committable = st.runs.front().last_offset + 1;
      st.runs.pop_front();
    }
    if (st.committable >= 0 && st.committable != st.reported) {
      st.reported = st.committable;
      out.push_back(kafka_commit{p, st.committable});
    }
  }
  return out;
}

void kafka_commit_tracker::assigned(const kafka_partition& p, int64_t offset) {
  auto& st = partitions_[p];
  if (st.reported < 0 && offset >= 0)
    st.reported = offset;
}

int64_t kafka_commit_tracker::committed(const kafka_partition& p) const {
  auto it = partitions_.find(p);
  return it == partitions_.end() ? -1 : it->second.reported;
}

bool kafka_commit_tracker::pending(const kafka_partition& p) const {
  auto it = partitions_.find(p);
  if (it == partitions_.end())
    return false;
  for (auto& r : it->second.runs)
    if (open_.contains(r.token) || unsealed_.contains(r.token))
      return true;
  return false;
}

void kafka_commit_tracker::drop(const kafka_partition& p) {
  partitions_.erase(p);
}

} // namespace tickgate::net
