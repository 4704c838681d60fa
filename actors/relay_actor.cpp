#include "actors/relay_actor.hpp"

#include <caf/actor_cast.hpp>
#include <caf/send.hpp>
#include <spdlog/spdlog.h>

#include "actors/metrics.hpp"

namespace tickgate {

namespace {

using self_ptr = caf::stateful_actor<relay_state>*;

// Sends what a topic hands this subscriber to the following node's link,
// one message per frame, in the order the topic sent them.
class relay_sink : public session_sink {
public:
  relay_sink(caf::actor peer, caf::actor_addr relay)
    : peer_(std::move(peer)), relay_(std::move(relay)) {}

  send_result send(frame f) override {
    if (!f.bytes)
      return send_result::queued;
    // Sent as the relay: the peer takes frames only from its members' actors.
    auto from = caf::actor_cast<caf::strong_actor_ptr>(relay_);
    if (!from)
      return send_result::closed; // the relay ended: the topic drops this subscriber
    caf::send_as(caf::actor_cast<caf::actor>(from), peer_, relay_atom_v, *f.bytes);
    node_metrics().cluster_relayed_out.fetch_add(1, std::memory_order_relaxed);
    return send_result::queued;
  }

  void close(uint16_t, std::string_view) override {}

private:
  caf::actor peer_;
  caf::actor_addr relay_; // weak: the relay's state owns this sink
};

subscriber as_subscriber(self_ptr self, std::shared_ptr<const subscribe_options> options) {
  return subscriber{caf::actor_cast<connection_actor_type>(self), self->state.sink,
                    wire_format::relay, std::move(options)};
}

void attach(self_ptr self, const std::string& topic, uint64_t req,
            std::shared_ptr<const subscribe_options> options) {
  auto& st = self->state;
  self->send(st.router, attach_atom_v, req, std::vector<std::string>{topic},
             as_subscriber(self, std::move(options)));
}

} // namespace

caf::behavior relay_actor(self_ptr self, caf::actor peer, caf::actor router) {
  auto& st = self->state;
  st.peer = std::move(peer);
  st.router = std::move(router);
  st.sink = std::make_shared<relay_sink>(st.peer, self->address());
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
      // The position first, then the stream: both reach the peer in this order.
      self->send(st.peer, synced_atom_v, name, pos.epoch, pos.seq, pos.recovered.value_or(false));
      self->send(topic, release_atom_v, caf::actor{self});
    },
    [self](detached_atom, uint64_t, const std::string&) {},
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
