#include "net/emitter_feed.hpp"

#include <array>

#include <spdlog/spdlog.h>

#include "actors/metrics.hpp"
#include "net/channel_map.hpp"
#include "proto/json_writer.hpp"
#include "proto/emitter_packet.hpp"

namespace tickgate::net {

emitter_feed::emitter_feed(emitter_feed_settings settings, std::shared_ptr<redis_port> link)
  : settings_(std::move(settings)),
    broadcasts_(glob_escape(settings_.prefix + "#") + "*"),
    requests_(glob_escape(settings_.prefix + "-request#") + "*"),
    request_prefix_(settings_.prefix + "-request#"),
    link_(std::move(link)) {
}

void emitter_feed::start(feed_reports reports) {
  reports_ = std::move(reports);
  spdlog::info("emitter.config to={} channels={}", settings_.endpoint, broadcasts_);
  link_->start(this);
}

void emitter_feed::stop() {
  link_->stop();
}

bool emitter_feed::follow(const std::string& topic) {
  std::lock_guard<std::mutex> guard{mtx_};
  topics_.insert(topic);
  return up_ && confirmed_; // else confirmed with the others when Redis is
}

void emitter_feed::unfollow(const std::string& topic) {
  std::lock_guard<std::mutex> guard{mtx_};
  topics_.erase(topic);
}

publish_outcome emitter_feed::publish(const publication_batch& batch) {
  // Never chosen as the publishing feed (accepts_publishes() is false).
  spdlog::warn("emitter.publish_ignored count={}", batch.size());
  return publish_outcome::upstream;
}

void emitter_feed::describe(actor_stats& s) const {
  auto& m = node_metrics();
  s.msgs_in = m.emitter_packets_in.load();
  s.msgs_out = m.emitter_delivered.load();
  s.restarts = m.emitter_reconnects.load();
  s.extra.emplace_back("channels", json_quoted(broadcasts_));
}

void emitter_feed::on_link(bool up, const std::string& reason) {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    bool was_up = up_;
    up_ = up;
    confirmed_ = false;
    node_metrics().emitter_link_up.store(up ? 1 : 0);
    if (up) {
      // Status first: the confirmation of the topics follows it.
      reports_.status(true, std::string{});
      link_->psubscribe({broadcasts_, requests_});
      spdlog::info("emitter.link_up channels={}", broadcasts_);
      return;
    }
    if (was_up)
      spdlog::warn("emitter.link_down reason={}", reason);
  }
  reports_.status(false, "socket.io emitter unavailable: " + reason);
}

void emitter_feed::on_subscribed(const std::string& name, bool is_pattern) {
  std::vector<std::string> topics;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (!up_ || !is_pattern || name != broadcasts_ || confirmed_)
      return;
    confirmed_ = true;
    topics.assign(topics_.begin(), topics_.end());
  }
  if (!topics.empty())
    reports_.confirmed(std::move(topics));
}

void emitter_feed::on_messages(redis_batch& batch) {
  auto& m = node_metrics();
  m.emitter_packets_in.fetch_add(batch.size(), std::memory_order_relaxed);
  std::array<uint64_t, emitter::skip_reasons> skipped{};
  uint64_t delivered = 0;
  auto ts = now_us();
  publication_batch pubs;
  for (auto& msg : batch) {
    auto why = emitter::skip::request;
    if (!msg.channel.starts_with(request_prefix_)) {
      why = emitter::skip::oversize;
      if (msg.payload.size() <= settings_.max_payload_bytes) {
        auto decoded = emitter::decode(msg.payload);
        if (auto* e = std::get_if<emitter::emit>(&decoded)) {
          auto out = emitter::publications(std::move(*e), ts);
          if (!out.empty()) {
            ++delivered;
            pubs.insert(pubs.end(), std::make_move_iterator(out.begin()),
                        std::make_move_iterator(out.end()));
            continue;
          }
          why = emitter::skip::room;
        } else {
          why = std::get<emitter::skip>(decoded);
        }
      }
    }
    if (skipped[static_cast<size_t>(why)]++ == 0)
      spdlog::debug("emitter.skipped channel={} bytes={} reason={}", msg.channel,
                    msg.payload.size(), emitter::to_string(why));
  }
  for (size_t i = 0; i < skipped.size(); ++i)
    if (skipped[i] > 0)
      m.emitter_skipped[i].fetch_add(skipped[i], std::memory_order_relaxed);
  if (delivered > 0)
    m.emitter_delivered.fetch_add(delivered, std::memory_order_relaxed);
  if (!pubs.empty())
    reports_.deliver(std::move(pubs));
}

} // namespace tickgate::net
