#pragma once

#include <algorithm>
#include <mutex>
#include <string>
#include <vector>

namespace tickgate {

/// The topics one connection follows, readable from any thread: its
/// connection actor adds and removes them with its subscription set, and a
/// topic actor asks only for the rare publication that skips the members of
/// other topics (publication::skip_members_of: Socket.IO emitters' `except`
/// and multi-room emits). Kept only on nodes with such a feed
/// (routing_settings::track_membership), so other nodes pay nothing.
class topic_membership {
public:
  void add(const std::string& topic) {
    std::lock_guard<std::mutex> guard{mtx_};
    topics_.push_back(topic);
  }

  void remove(const std::string& topic) {
    std::lock_guard<std::mutex> guard{mtx_};
    if (auto i = std::find(topics_.begin(), topics_.end(), topic); i != topics_.end()) {
      *i = std::move(topics_.back());
      topics_.pop_back();
    }
  }

  /// Whether the connection follows any of `topics`.
  bool follows_any(const std::vector<std::string>& topics) const {
    std::lock_guard<std::mutex> guard{mtx_};
    for (auto& t : topics)
      if (std::find(topics_.begin(), topics_.end(), t) != topics_.end())
        return true;
    return false;
  }

private:
  mutable std::mutex mtx_;
  std::vector<std::string> topics_; // unordered, each once: a connection follows few
};

} // namespace tickgate
