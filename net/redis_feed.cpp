#include "net/redis_feed.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "actors/metrics.hpp"
#include "proto/event_envelope.hpp"

namespace tickgate::net {

redis_feed::redis_feed(redis_feed_settings settings, std::shared_ptr<redis_port> link)
  : settings_(std::move(settings)), link_(std::move(link)) {
  for (auto& p : settings_.patterns)
    pattern_confirmed_[p] = false;
}

void redis_feed::start(feed_reports reports) {
  reports_ = std::move(reports);
  spdlog::info("bridge.config to={} patterns={} mappings={}", settings_.endpoint,
               settings_.patterns.size(), settings_.mapping.rules().size());
  link_->start(this);
}

void redis_feed::stop() {
  link_->stop();
}

// The configured pattern that delivers `channel`, if any.
const std::string* redis_feed::covering_pattern(const std::string& channel) const {
  for (auto& p : settings_.patterns)
    if (glob_match(p, channel))
      return &p;
  return nullptr;
}

std::vector<std::string> redis_feed::suffixes() const {
  std::vector<std::string> out;
  for (auto* s : {&settings_.snapshot_suffix, &settings_.event_suffix})
    if (!s->empty())
      out.push_back(*s);
  return out;
}

std::vector<std::string> redis_feed::with_twin(const std::string& channel) const {
  std::vector<std::string> out{channel};
  for (auto& suffix : suffixes())
    out.push_back(channel + suffix);
  return out;
}

std::vector<std::string> redis_feed::patterns_to_subscribe() const {
  auto out = settings_.patterns;
  auto twins = suffixes();
  for (auto& suffix : twins) {
    for (auto& p : settings_.patterns) {
      // A pattern ending in an unescaped '*' already matches its channels' twins.
      bool ends_in_star
        = !p.empty() && p.back() == '*' && (p.size() < 2 || p[p.size() - 2] != '\\');
      if (!ends_in_star)
        out.push_back(p + glob_escape(suffix));
    }
  }
  return out;
}

bool redis_feed::follow(const std::string& topic) {
  auto channel = settings_.mapping.to_channel(topic);
  std::lock_guard<std::mutex> guard{mtx_};
  auto [it, fresh] = channels_.try_emplace(channel);
  auto& e = it->second;
  e.topics.push_back(topic);
  if (!up_)
    return false; // subscribed at link-up
  if (!fresh)
    return e.confirmed; // else: confirmed together with the channel
  if (auto* p = covering_pattern(channel)) {
    e.confirmed = pattern_confirmed_[*p];
    return e.confirmed;
  }
  link_->subscribe(with_twin(channel));
  return false;
}

void redis_feed::unfollow(const std::string& topic) {
  auto channel = settings_.mapping.to_channel(topic);
  std::lock_guard<std::mutex> guard{mtx_};
  auto it = channels_.find(channel);
  if (it == channels_.end())
    return;
  auto& topics = it->second.topics;
  if (auto t = std::find(topics.begin(), topics.end(), topic); t != topics.end())
    topics.erase(t);
  if (!topics.empty())
    return;
  channels_.erase(it);
  if (up_ && !covering_pattern(channel))
    link_->unsubscribe(with_twin(channel));
}

publish_outcome redis_feed::publish(const publication_batch& batch) {
  auto& m = node_metrics();
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (!up_) {
      m.bridge_publish_dropped.fetch_add(batch.size(), std::memory_order_relaxed);
      return publish_outcome::upstream;
    }
  }
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(batch.size());
  for (auto& pub : batch) {
    auto channel = settings_.mapping.to_channel(pub->topic);
    if (!pub->event.empty() && !settings_.event_suffix.empty()) {
      channel += settings_.event_suffix;
      out.emplace_back(std::move(channel),
                       encode_event_envelope(pub->event, pub->snapshot, pub->payload));
      continue;
    }
    if (pub->snapshot)
      channel += settings_.snapshot_suffix; // without a suffix the mark is lost
    out.emplace_back(std::move(channel), pub->payload);
  }
  m.bridge_published.fetch_add(out.size(), std::memory_order_relaxed);
  link_->publish(std::move(out));
  return publish_outcome::upstream;
}

void redis_feed::describe(actor_stats& s) const {
  auto& m = node_metrics();
  s.msgs_in = m.bridge_messages_in.load();
  s.msgs_out = m.bridge_published.load();
  s.restarts = m.bridge_reconnects.load();
  std::lock_guard<std::mutex> guard{mtx_};
  s.extra.emplace_back("channels", std::to_string(channels_.size()));
  s.extra.emplace_back("patterns", std::to_string(settings_.patterns.size()));
}

void redis_feed::on_link(bool up, const std::string& reason) {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    bool was_up = up_;
    up_ = up;
    node_metrics().bridge_link_up.store(up ? 1 : 0);
    if (up) {
      // Status first: the confirmations of these subscriptions follow it.
      reports_.status(true, std::string{});
      std::vector<std::string> channels;
      for (auto& [channel, e] : channels_)
        if (!covering_pattern(channel))
          for (auto& c : with_twin(channel))
            channels.push_back(std::move(c));
      if (!settings_.patterns.empty())
        link_->psubscribe(patterns_to_subscribe());
      if (!channels.empty())
        link_->subscribe(std::move(channels));
      spdlog::info("bridge.link_up channels={} patterns={}", channels_.size(),
                   settings_.patterns.size());
      return;
    }
    for (auto& [p, confirmed] : pattern_confirmed_)
      confirmed = false;
    for (auto& [channel, e] : channels_)
      e.confirmed = false;
    if (was_up)
      spdlog::warn("bridge.link_down reason={} channels={}", reason, channels_.size());
  }
  reports_.status(false, "redis unavailable: " + reason);
}

void redis_feed::on_subscribed(const std::string& name, bool is_pattern) {
  std::vector<std::string> topics;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (!up_)
      return; // a confirmation from before the link dropped
    auto confirm = [&](channel_entry& e) {
      if (e.confirmed)
        return;
      e.confirmed = true;
      topics.insert(topics.end(), e.topics.begin(), e.topics.end());
    };
    if (!is_pattern) {
      if (auto it = channels_.find(name); it != channels_.end())
        confirm(it->second);
    } else {
      // A twin pattern is confirmed with its pattern (same PSUBSCRIBE).
      auto p = pattern_confirmed_.find(name);
      if (p == pattern_confirmed_.end())
        return;
      p->second = true;
      for (auto& [channel, e] : channels_)
        if (glob_match(name, channel))
          confirm(e);
    }
  }
  if (!topics.empty())
    reports_.confirmed(std::move(topics));
}

void redis_feed::on_messages(redis_batch& batch) {
  auto& m = node_metrics();
  m.bridge_messages_in.fetch_add(batch.size(), std::memory_order_relaxed);
  auto ts = now_us();
  publication_batch pubs;
  pubs.reserve(batch.size());
  for (auto& msg : batch) {
    if (msg.payload.size() > settings_.max_payload_bytes) {
      m.bridge_oversize.fetch_add(1, std::memory_order_relaxed);
      spdlog::warn("bridge.oversize_dropped channel={} bytes={} limit={}", msg.channel,
                   msg.payload.size(), settings_.max_payload_bytes);
      continue;
    }
    auto p = std::make_shared<publication>();
    std::string_view channel = msg.channel;
    auto twin_of = [&](const std::string& suffix) {
      if (suffix.empty() || channel.size() <= suffix.size() || !channel.ends_with(suffix))
        return false;
      channel.remove_suffix(suffix.size());
      return true;
    };
    if (twin_of(settings_.event_suffix)) {
      std::string error;
      auto env = decode_event_envelope(msg.payload, error);
      if (!env) {
        m.bridge_bad_envelope.fetch_add(1, std::memory_order_relaxed);
        spdlog::warn("bridge.bad_envelope channel={} reason={}", msg.channel, error);
        continue;
      }
      p->event = std::move(env->event);
      p->snapshot = env->snapshot;
      msg.payload.erase(0, msg.payload.size() - env->payload.size());
    } else if (twin_of(settings_.snapshot_suffix)) {
      p->snapshot = true;
    }
    p->topic = settings_.mapping.to_topic(channel);
    p->kind = classify_payload(msg.payload);
    p->payload = std::move(msg.payload);
    p->ts_us = ts;
    pubs.push_back(std::move(p));
  }
  if (!pubs.empty())
    reports_.deliver(std::move(pubs));
}

} // namespace tickgate::net
