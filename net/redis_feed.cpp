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
  if (fresh)
    e.id = ++next_channel_id_;
  e.topics.push_back(topic);
  if (!up_)
    return false; // subscribed at link-up
  if (!fresh || covering_pattern(channel)) {
    if (fresh)
      e.confirmed = pattern_confirmed_[*covering_pattern(channel)];
    if (!e.confirmed)
      return false; // confirmed together with the channel or its pattern
    if (!settings_.numbering.on)
      return true;
    load(channel, {topic});
    return false;
  }
  link_->subscribe(with_twin(channel));
  return false;
}

void redis_feed::load(const std::string& channel, std::vector<std::string> topics) {
  auto& e = channels_[channel];
  ++e.loading;
  link_->query(settings_.numbering.position_query(channel, new_redis_epoch()),
               [this, channel, topics = std::move(topics), gen = generation_, id = e.id](
                 std::optional<redis_value> reply, std::string error) {
                 on_loaded(channel, id, topics, gen, std::move(reply), error);
               });
}

void redis_feed::on_loaded(const std::string& channel, uint64_t id,
                           const std::vector<std::string>& topics,
                           uint64_t generation, std::optional<redis_value> reply,
                           const std::string& error) {
  if (!reply && error.empty())
    return; // the link dropped: its down report clears the read, a reconnect reads again
  auto& m = node_metrics();
  redis_batch held;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (generation != generation_ || !up_)
      return; // the link dropped since: read again when it is back
    auto it = channels_.find(channel);
    if (it == channels_.end() || it->second.id != id)
      return; // unfollowed meanwhile (and perhaps followed again: read anew)
    auto& e = it->second;
    if (e.loading > 0 && --e.loading == 0)
      held.swap(e.held);
  }
  std::string why = error;
  std::optional<redis_position> pos;
  if (reply)
    pos = parse_position_reply(*reply, why);
  if (pos) {
    for (auto& topic : topics) {
      publication_batch stream;
      stream.reserve(pos->messages.size());
      for (auto& msg : pos->messages)
        if (auto p = to_publication(channel + settings_.event_suffix, msg, 0, &topic);
            p && p->seq != 0)
          stream.push_back(std::move(p));
      m.bridge_positions_read.fetch_add(1, std::memory_order_relaxed);
      reports_.positioned(topic, pos->epoch, pos->seq, std::move(stream));
    }
  } else {
    // Redis answered, but not with a position (a key of another type, a
    // script error): the topics go on with this node's own numbering.
    m.bridge_position_failures.fetch_add(1, std::memory_order_relaxed);
    spdlog::warn("bridge.position_unread channel={} reason={}", channel, why);
    reports_.confirmed(topics);
  }
  if (!held.empty())
    deliver(held);
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
  if (settings_.numbering.on) {
    std::vector<std::vector<std::string>> commands;
    commands.reserve(batch.size());
    for (auto& pub : batch) {
      auto channel = settings_.mapping.to_channel(pub->topic);
      commands.push_back(settings_.numbering.publish_command(
        channel, channel + settings_.event_suffix, new_redis_epoch(), *pub));
    }
    m.bridge_published.fetch_add(commands.size(), std::memory_order_relaxed);
    link_->publish_commands(std::move(commands));
    return publish_outcome::upstream;
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
    ++generation_;
    for (auto& [p, confirmed] : pattern_confirmed_)
      confirmed = false;
    for (auto& [channel, e] : channels_) {
      e.confirmed = false;
      e.loading = 0;
      e.held.clear();
    }
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
    auto confirm = [&](const std::string& channel, channel_entry& e) {
      if (e.confirmed)
        return;
      e.confirmed = true;
      if (settings_.numbering.on)
        load(channel, e.topics); // confirmed with their position
      else
        topics.insert(topics.end(), e.topics.begin(), e.topics.end());
    };
    if (!is_pattern) {
      if (auto it = channels_.find(name); it != channels_.end())
        confirm(it->first, it->second);
    } else {
      // A twin pattern is confirmed with its pattern (same PSUBSCRIBE).
      auto p = pattern_confirmed_.find(name);
      if (p == pattern_confirmed_.end())
        return;
      p->second = true;
      for (auto& [channel, e] : channels_)
        if (glob_match(name, channel))
          confirm(channel, e);
    }
  }
  if (!topics.empty())
    reports_.confirmed(std::move(topics));
}

void redis_feed::on_messages(redis_batch& batch) {
  node_metrics().bridge_messages_in.fetch_add(batch.size(), std::memory_order_relaxed);
  if (settings_.numbering.on) {
    // Messages of a channel whose position is being read wait for it.
    std::lock_guard<std::mutex> guard{mtx_};
    auto sfx = suffixes();
    std::erase_if(batch, [&](redis_message& msg) {
      std::string_view channel = msg.channel;
      for (auto& suffix : sfx)
        if (channel.size() > suffix.size() && channel.ends_with(suffix)) {
          channel.remove_suffix(suffix.size());
          break;
        }
      auto it = channels_.find(std::string{channel});
      if (it == channels_.end() || it->second.loading == 0)
        return false;
      // Bounded: past it the newest are dropped, and the topic sees the gap
      // (a reset) at the next event after the read.
      if (it->second.held.size() >= max_held_messages)
        node_metrics().bridge_held_dropped.fetch_add(1, std::memory_order_relaxed);
      else
        it->second.held.push_back(std::move(msg));
      return true;
    });
  }
  deliver(batch);
}

void redis_feed::deliver(redis_batch& batch) {
  auto ts = now_us();
  publication_batch pubs;
  pubs.reserve(batch.size());
  for (auto& msg : batch)
    if (auto p = to_publication(msg.channel, std::move(msg.payload), ts))
      pubs.push_back(std::move(p));
  if (!pubs.empty())
    reports_.deliver(std::move(pubs));
}

publication_ptr redis_feed::to_publication(std::string_view channel, std::string payload,
                                           int64_t ts, const std::string* topic) const {
  auto& m = node_metrics();
  if (payload.size() > settings_.max_payload_bytes) {
    m.bridge_oversize.fetch_add(1, std::memory_order_relaxed);
    spdlog::warn("bridge.oversize_dropped channel={} bytes={} limit={}", channel,
                 payload.size(), settings_.max_payload_bytes);
    return nullptr;
  }
  auto p = std::make_shared<publication>();
  std::string_view base = channel;
  auto twin_of = [&](const std::string& suffix) {
    if (suffix.empty() || base.size() <= suffix.size() || !base.ends_with(suffix))
      return false;
    base.remove_suffix(suffix.size());
    return true;
  };
  p->ts_us = ts;
  if (twin_of(settings_.event_suffix)) {
    std::string error;
    auto env = decode_event_envelope(payload, error);
    if (!env) {
      m.bridge_bad_envelope.fetch_add(1, std::memory_order_relaxed);
      spdlog::warn("bridge.bad_envelope channel={} reason={}", channel, error);
      return nullptr;
    }
    p->event = std::move(env->event);
    p->snapshot = env->snapshot;
    p->seq = env->seq;
    p->epoch = std::move(env->epoch);
    if (env->ts_us > 0)
      p->ts_us = env->ts_us; // the same on every node
    payload.erase(0, payload.size() - env->payload.size());
  } else if (twin_of(settings_.snapshot_suffix)) {
    p->snapshot = true;
  }
  p->topic = topic ? *topic : settings_.mapping.to_topic(base);
  p->kind = classify_payload(payload);
  p->payload = std::move(payload);
  return p;
}

} // namespace tickgate::net
