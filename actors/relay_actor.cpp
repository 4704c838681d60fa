#include "actors/relay_actor.hpp"

#include <caf/actor_cast.hpp>
#include <caf/send.hpp>
#include <spdlog/spdlog.h>

#include "actors/metrics.hpp"
#include "proto/native_codec.hpp"
#include "proto/relay_codec.hpp"

namespace tickgate {

namespace {

using self_ptr = caf::stateful_actor<relay_state>*;

// Queues what a topic hands this subscriber in the relay's outbox, and asks
// the relay actor to send when the outbox was empty.
class relay_sink : public session_sink {
public:
  relay_sink(std::shared_ptr<relay_outbox> outbox, caf::actor_addr relay)
    : outbox_(std::move(outbox)), relay_(std::move(relay)) {}

  send_result send(frame f) override {
    if (!f.bytes)
      return send_result::queued;
    auto relay = caf::actor_cast<caf::actor>(relay_);
    if (!relay)
      return send_result::closed; // the relay ended: the topic drops this subscriber
    switch (outbox_->add(std::move(f.bytes))) {
      case relay_outbox::added::first: caf::anon_send(relay, tick_atom_v); break;
      case relay_outbox::added::queued: break;
      case relay_outbox::added::dropped:
        node_metrics().cluster_relay_dropped.fetch_add(1, std::memory_order_relaxed);
        break;
    }
    return send_result::queued;
  }

  void close(uint16_t, std::string_view) override {}

private:
  std::shared_ptr<relay_outbox> outbox_;
  caf::actor_addr relay_; // weak: the relay's state owns this sink
};

// One message to the peer with everything queued, in the order topics
// queued it (sent by the relay itself: the peer takes frames only from its
// members' actors).
void send_queued(self_ptr self) {
  auto& st = self->state;
  auto frames = st.outbox->take();
  if (frames.empty())
    return;
  auto& m = node_metrics();
  m.cluster_relayed_out.fetch_add(frames.size(), std::memory_order_relaxed);
  m.cluster_relay_messages.fetch_add(1, std::memory_order_relaxed);
  if (frames.size() == 1) {
    self->send(st.peer, relay_atom_v, *frames[0]);
    return;
  }
  std::vector<std::string> batch;
  batch.reserve(frames.size());
  for (auto& f : frames)
    batch.push_back(*f);
  self->send(st.peer, relay_atom_v, std::move(batch));
}

subscriber as_subscriber(self_ptr self, std::shared_ptr<const subscribe_options> options) {
  return subscriber{caf::actor_cast<connection_actor_type>(self), self->state.sink,
                    wire_format::relay, std::move(options)};
}

// The position first, then the stream (released now): both reach the peer
// in this order, after any frame queued before it. `backfill`: the topic's
// retained events up to the position, encoded as relay frames.
void send_synced(self_ptr self, const std::string& name, const caf::actor& topic,
                 const topic_position& pos, std::vector<std::string> backfill) {
  auto& st = self->state;
  if (st.topics.count(name) == 0)
    return; // unfollowed meanwhile; the detach is on its way
  send_queued(self);
  self->send(st.peer, synced_atom_v, name, pos.epoch, pos.seq, pos.recovered.value_or(false),
             std::move(backfill));
  self->send(topic, release_atom_v, caf::actor{self});
}

void attach(self_ptr self, const std::string& topic, uint64_t req,
            std::shared_ptr<const subscribe_options> options) {
  auto& st = self->state;
  self->send(st.router, attach_atom_v, req, std::vector<std::string>{topic},
             as_subscriber(self, std::move(options)));
}

} // namespace

caf::behavior relay_actor(self_ptr self, caf::actor peer, caf::actor router, size_t window) {
  auto& st = self->state;
  st.peer = std::move(peer);
  st.router = std::move(router);
  st.outbox = std::make_shared<relay_outbox>(window);
  st.sink = std::make_shared<relay_sink>(st.outbox, self->address());
  // A topic that fails is attached again (request 0 goes live at once, after
  // the new epoch's reset frame, which reaches the peer like any frame).
  self->set_down_handler([self](const caf::down_msg& msg) {
    auto& st = self->state;
    for (auto& [name, topic] : st.topics)
      if (topic && topic.address() == msg.source) {
        topic = nullptr;
        attach(self, name, 0, nullptr);
        return;
      }
  });
  // Topics tell subscribers more than a relay needs (client-facing replies).
  self->set_default_handler(caf::drop);
  return {
    [self](follow_atom, const std::string& topic, const std::string& epoch, uint64_t seq) {
      auto& st = self->state;
      if (st.topics.count(topic) > 0)
        return; // followed already: the stream goes on
      st.topics.emplace(topic, nullptr);
      if (epoch.empty())
        st.fresh.insert(topic);
      std::shared_ptr<const subscribe_options> options;
      if (!epoch.empty()) {
        auto o = std::make_shared<subscribe_options>();
        o->since.emplace_back(topic, stream_position{epoch, seq});
        options = std::move(o);
      }
      attach(self, topic, st.next_req++, std::move(options));
    },
    [self](unfollow_atom, const std::string& topic) {
      auto& st = self->state;
      auto it = st.topics.find(topic);
      if (it == st.topics.end())
        return;
      if (it->second)
        self->demonitor(it->second);
      st.topics.erase(it);
      st.fresh.erase(topic);
      self->send(st.router, detach_atom_v, st.next_req++, std::vector<std::string>{topic},
                 caf::actor_cast<connection_actor_type>(self));
    },
    [self](binding_atom, const std::string& name, const caf::actor& topic) {
      auto& st = self->state;
      auto it = st.topics.find(name);
      if (it == st.topics.end() || it->second == topic)
        return;
      if (it->second)
        self->demonitor(it->second);
      it->second = topic;
      self->monitor(topic);
    },
    [self](attached_atom, uint64_t, const std::string& name, const caf::actor& topic,
           const topic_position& pos) {
      auto& st = self->state;
      if (st.topics.count(name) == 0)
        return; // unfollowed meanwhile; the detach is on its way
      if (st.fresh.erase(name) == 0 || pos.seq == 0) {
        send_synced(self, name, topic, pos, {});
        return;
      }
      // A node that starts following the topic gets its retained events
      // with the position, so clients resuming there find them (the stream
      // stays held until then).
      history_query q;
      q.topic = name;
      q.what = history_query::kind::since;
      q.since = stream_position{pos.epoch, pos.seq > relay_backfill_limit ? pos.seq - relay_backfill_limit : 0};
      q.limit = relay_backfill_limit;
      self->request(topic, std::chrono::seconds(5), history_atom_v, q)
        .then(
          [self, name, topic, pos](history_reply& r) {
            std::vector<std::string> frames;
            if (r.epoch == pos.epoch)
              for (auto& e : r.events)
                if (e.seq <= pos.seq)
                  frames.push_back(encode_relay_event(event_fields_of(name, e.seq, pos.epoch, *e.pub)));
            send_synced(self, name, topic, pos, std::move(frames));
          },
          [self, name, topic, pos](caf::error&) { send_synced(self, name, topic, pos, {}); });
    },
    [self](detached_atom, uint64_t, const std::string&) {},
    [self](tick_atom) { send_queued(self); },
    [self](handed_atom, uint64_t n) {
      auto& st = self->state;
      if (self->current_sender() != caf::actor_cast<caf::strong_actor_ptr>(st.peer))
        return;
      st.outbox->confirmed(n);
      if (!st.outbox->resync_due())
        return;
      // Frames were dropped: each topic's position again (an attach of a
      // subscriber it has answers with it), so the follower's subscribers
      // get their reset now, not only when the next event comes.
      spdlog::info("relay.resync topics={}", st.topics.size());
      for (auto& [name, topic] : st.topics)
        if (topic)
          attach(self, name, st.next_req++, nullptr);
    },
    [self](stop_atom) {
      auto& st = self->state;
      std::vector<std::string> names;
      for (auto& [name, topic] : st.topics)
        names.push_back(name);
      if (!names.empty())
        self->send(st.router, detach_atom_v, st.next_req++, names,
                   caf::actor_cast<connection_actor_type>(self));
      self->quit();
    },
  };
}

} // namespace tickgate
