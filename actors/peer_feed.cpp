#include "actors/peer_feed.hpp"

#include <algorithm>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <spdlog/spdlog.h>

#include "actors/cluster_members.hpp"
#include "actors/metrics.hpp"
#include "actors/relay_actor.hpp"
#include "proto/json_writer.hpp"
#include "proto/relay_codec.hpp"

namespace tickgate {

namespace {

using self_ptr = caf::stateful_actor<peer_link_state>*;

// A relay or forward frame larger than this is refused: the largest
// payload a node accepts (ws.max-http-body-bytes, redis.max-payload-bytes
// are 1 MiB by default) plus its envelope, with room to spare.
constexpr size_t max_relay_frame = 16u << 20;

// A forwarded publish travels at most this many hops: from the node that
// took it to the home it saw, and once more if that node sees another
// home (their member lists differ for a moment while membership changes).
// (forward_atom, frames, hops) carries the hops made, 1 on the first.
constexpr uint8_t max_forward_hops = 2;

const std::string& home(self_ptr self, const std::string& topic) {
  auto& st = self->state;
  return st.names.empty() ? st.self_name : home_of(topic, st.names);
}

caf::actor node_of(self_ptr self, const std::string& name) {
  for (auto& m : self->state.members)
    if (m.name == name)
      return m.node;
  return {};
}

// Whether the message being handled comes from another live member (its
// link, its relay, or forwarded by our node actor on its behalf).
bool from_member(self_ptr self) {
  auto& sender = self->current_sender();
  return sender && self->state.member_nodes.count(sender->node()) > 0;
}

// Starts following `topic` where it is homed now.
void follow_at_home(self_ptr self, const std::string& topic, peer_link_state::followed& f) {
  auto& st = self->state;
  f.home = home(self, topic);
  f.synced = f.home == st.self_name;
  f.asked = std::chrono::steady_clock::now();
  if (f.home == st.self_name) {
    // This node numbers the topic: from its own new epoch if it had one
    // from another home, else from where it stands.
    st.reports.positioned(topic, {}, 0);
    f.epoch.clear();
    f.seq = 0;
    return;
  }
  auto node = node_of(self, f.home);
  if (!node)
    return;
  node_metrics().cluster_follows.fetch_add(1, std::memory_order_relaxed);
  self->send(node, follow_atom_v, topic, f.epoch, f.seq);
}

void unfollow_at_home(self_ptr self, const std::string& topic, const std::string& at) {
  auto& st = self->state;
  if (at.empty() || at == st.self_name)
    return;
  if (auto node = node_of(self, at))
    self->send(node, unfollow_atom_v, topic);
}

// The live members changed: every followed topic whose home moved follows
// the new home; relays of nodes that are gone end.
void on_members(self_ptr self, std::vector<peer_ref> members) {
  auto& st = self->state;
  std::sort(members.begin(), members.end(),
            [](const peer_ref& a, const peer_ref& b) { return a.name < b.name; });
  st.members = std::move(members);
  st.names.clear();
  st.member_nodes.clear();
  for (auto& m : st.members) {
    st.names.push_back(m.name);
    if (m.node)
      st.member_nodes.insert(m.node.node());
  }
  for (auto it = st.relays.begin(); it != st.relays.end();) {
    if (st.member_nodes.count(it->first.node()) == 0) {
      self->send(it->second, stop_atom_v);
      it = st.relays.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& [topic, f] : st.topics) {
    auto& now = home(self, topic);
    if (now == f.home)
      continue;
    spdlog::info("peer.home_moved topic={} from={} to={}", topic,
                 f.home.empty() ? "-" : f.home, now);
    if (!f.home.empty() && node_of(self, f.home))
      unfollow_at_home(self, topic, f.home); // still a member: its relay can end
    follow_at_home(self, topic, f);
  }
}

// Publishes for topics homed elsewhere go there, one message per home;
// `hops`: how many nodes forwarded them so far. One that would make more
// than max_forward_hops has bounced between nodes that disagree on its
// home: it is dropped, counted.
void route_publishes(self_ptr self, const publication_batch& batch, uint8_t hops) {
  auto& st = self->state;
  publication_batch local;
  std::map<std::string, std::vector<std::string>> away;
  for (auto& p : batch) {
    auto& h = home(self, p->topic);
    if (h == st.self_name)
      local.push_back(p);
    else if (hops >= max_forward_hops)
      node_metrics().cluster_misrouted.fetch_add(1, std::memory_order_relaxed);
    else
      away[h].push_back(encode_relay_publish(*p));
  }
  if (!local.empty())
    st.reports.deliver(std::move(local));
  for (auto& [name, frames] : away) {
    auto node = node_of(self, name);
    if (!node)
      continue;
    node_metrics().cluster_forwarded_out.fetch_add(frames.size(), std::memory_order_relaxed);
    self->send(node, forward_atom_v, std::move(frames), static_cast<uint8_t>(hops + 1));
  }
}

void on_relay_frame(self_ptr self, const std::string& bytes) {
  auto& st = self->state;
  std::string error;
  auto frame = decode_relay_frame(bytes, max_relay_frame, error);
  if (!frame) {
    node_metrics().cluster_bad_frames.fetch_add(1, std::memory_order_relaxed);
    spdlog::warn("peer.bad_frame error={}", error);
    return;
  }
  node_metrics().cluster_relayed_in.fetch_add(1, std::memory_order_relaxed);
  auto it = st.topics.find(frame->pub.topic);
  if (it == st.topics.end())
    return; // unfollowed meanwhile
  auto& f = it->second;
  switch (frame->what) {
    case relay_frame::kind::event: {
      if (frame->seq == 0)
        return; // only forwards come unnumbered, and not this way
      f.epoch = frame->epoch;
      f.seq = frame->seq;
      auto pub = std::make_shared<publication>(std::move(frame->pub));
      pub->seq = frame->seq;
      pub->epoch = std::move(frame->epoch);
      st.reports.deliver(publication_batch{std::move(pub)});
      return;
    }
    case relay_frame::kind::reset:
      f.epoch = frame->epoch;
      f.seq = 0;
      st.reports.positioned(frame->pub.topic, frame->epoch, 0);
      return;
    case relay_frame::kind::status:
      // The home's own feed for the topic changed; a reset follows when it
      // comes back, which is what this node's subscribers need to hear.
      spdlog::debug("peer.home_status topic={} state={}", frame->pub.topic, frame->state);
      return;
  }
}

// The home's retained events of `topic` that came with its position
// (epoch, seq): numbered publications, oldest first, none past the position.
publication_batch retained_of(const std::string& topic, const std::string& epoch, uint64_t seq,
                              const std::vector<std::string>& frames) {
  publication_batch out;
  for (auto& bytes : frames) {
    std::string error;
    auto frame = decode_relay_frame(bytes, max_relay_frame, error);
    if (!frame || frame->what != relay_frame::kind::event || frame->seq == 0
        || frame->seq > seq || frame->epoch != epoch || frame->pub.topic != topic) {
      node_metrics().cluster_bad_frames.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    auto pub = std::make_shared<publication>(std::move(frame->pub));
    pub->seq = frame->seq;
    pub->epoch = std::move(frame->epoch);
    out.push_back(std::move(pub));
  }
  return out;
}

// Confirms relay frames to the relay that sent them, every
// relay_confirm_every frames (the rest on the tick), so its window moves.
void count_relayed(self_ptr self, size_t n) {
  auto& st = self->state;
  auto sender = caf::actor_cast<caf::actor_addr>(self->current_sender());
  auto& count = st.unconfirmed[sender];
  count += n;
  if (count < relay_confirm_every)
    return;
  self->send(caf::actor_cast<caf::actor>(self->current_sender()), handed_atom_v, count);
  st.unconfirmed.erase(sender);
}

void confirm_all(self_ptr self) {
  auto& st = self->state;
  for (auto& [relay, count] : st.unconfirmed)
    if (auto handle = caf::actor_cast<caf::actor>(relay))
      self->send(handle, handed_atom_v, count);
  st.unconfirmed.clear();
}

void on_forward(self_ptr self, const std::vector<std::string>& frames, uint8_t hops) {
  publication_batch batch;
  for (auto& bytes : frames) {
    std::string error;
    auto frame = decode_relay_frame(bytes, max_relay_frame, error);
    if (!frame || frame->what != relay_frame::kind::event || frame->seq != 0) {
      node_metrics().cluster_bad_frames.fetch_add(1, std::memory_order_relaxed);
      spdlog::warn("peer.bad_forward error={}", frame ? "not a publish" : error);
      continue;
    }
    batch.push_back(std::make_shared<publication>(std::move(frame->pub)));
  }
  node_metrics().cluster_forwarded_in.fetch_add(batch.size(), std::memory_order_relaxed);
  route_publishes(self, batch, hops);
}

} // namespace

caf::behavior peer_link_actor(self_ptr self, std::string self_name, size_t relay_window) {
  self->state.self_name = std::move(self_name);
  self->state.relay_window = relay_window;
  return {
    [self](feed_atom, const caf::actor& owner) {
      if (from_this_node(self))
        self->state.reports = feed_reports{owner};
    },
    // This node's peer feed.
    [self](follow_atom, const std::string& topic) {
      if (!from_this_node(self))
        return;
      auto& f = self->state.topics[topic];
      follow_at_home(self, topic, f);
    },
    [self](unfollow_atom, const std::string& topic) {
      auto& st = self->state;
      if (from_member(self)) { // a peer no longer follows `topic` here
        auto r = st.relays.find(caf::actor_cast<caf::actor_addr>(self->current_sender()));
        if (r != st.relays.end())
          self->send(r->second, unfollow_atom_v, topic);
        return;
      }
      auto it = st.topics.find(topic);
      if (!from_this_node(self) || it == st.topics.end())
        return;
      unfollow_at_home(self, topic, it->second.home);
      st.topics.erase(it);
    },
    [self](publish_atom, const publication_batch& batch) {
      if (from_this_node(self))
        route_publishes(self, batch, 0);
    },
    // The node.
    [self](members_atom, std::vector<peer_ref>& members) {
      if (!from_this_node(self))
        return;
      on_members(self, std::move(members));
      if (!self->state.ticking) {
        self->state.ticking = true;
        self->send(self, tick_atom_v);
      }
    },
    [self](use_atom, const caf::actor& router) {
      if (from_this_node(self))
        self->state.router = router;
    },
    // Peers.
    [self](follow_atom, const std::string& topic, const std::string& epoch, uint64_t seq) {
      auto& st = self->state;
      if (!from_member(self) || !st.router)
        return;
      auto peer = caf::actor_cast<caf::actor>(self->current_sender());
      auto& relay = st.relays[peer.address()];
      if (!relay) // ends with the link
        relay = self->spawn<caf::linked>(relay_actor, peer, st.router, st.relay_window);
      self->send(relay, follow_atom_v, topic, epoch, seq);
    },
    [self](forward_atom, const std::vector<std::string>& frames, uint8_t hops) {
      if (from_member(self))
        on_forward(self, frames, hops);
    },
    [self](synced_atom, const std::string& topic, const std::string& epoch, uint64_t seq,
           bool recovered, const std::vector<std::string>& backfill) {
      auto& st = self->state;
      if (!from_member(self))
        return;
      auto it = st.topics.find(topic);
      if (it == st.topics.end())
        return;
      auto& f = it->second;
      f.synced = true;
      // Resumed: the relay replays what followed our position, which the
      // topic still holds. Otherwise the stream starts at the home's, with
      // what the home retains of it.
      if (recovered && f.epoch == epoch) {
        st.reports.positioned(topic, f.epoch, f.seq);
        return;
      }
      if (!f.epoch.empty() && f.epoch == epoch && seq <= f.seq)
        return; // a relay's resync answered after frames past it: the stream goes on
      f.epoch = epoch;
      f.seq = seq;
      st.reports.positioned(topic, epoch, seq, retained_of(topic, epoch, seq, backfill));
    },
    [self](tick_atom) {
      auto& st = self->state;
      auto now = std::chrono::steady_clock::now();
      for (auto& [topic, f] : st.topics)
        if (!f.synced && now - f.asked >= std::chrono::seconds(1))
          follow_at_home(self, topic, f);
      confirm_all(self);
      self->delayed_send(self, std::chrono::seconds(1), tick_atom_v);
    },
    // Confirmed even when dropped (a home this node counts down for now):
    // its relay's window must keep moving.
    [self](relay_atom, const std::string& frame) {
      count_relayed(self, 1);
      if (from_member(self))
        on_relay_frame(self, frame);
    },
    [self](relay_atom, const std::vector<std::string>& frames) {
      count_relayed(self, frames.size());
      if (!from_member(self))
        return;
      for (auto& frame : frames)
        on_relay_frame(self, frame);
    },
  };
}

void peer_feed::spawn_link(caf::actor_system& sys) {
  link_ = sys.spawn(peer_link_actor, self_name_, relay_window_);
}

// Sent as the feed actor: the link takes local messages only from actors
// of this process (from_this_node).
void peer_feed::start(feed_reports reports) {
  owner_ = reports.owner();
  caf::send_as(owner_, link_, feed_atom_v, owner_);
}

void peer_feed::stop() {
  if (link_)
    caf::anon_send_exit(link_, caf::exit_reason::user_shutdown);
}

bool peer_feed::follow(const std::string& topic) {
  caf::send_as(owner_, link_, follow_atom_v, topic);
  return false; // confirmed with its position (positioned)
}

void peer_feed::unfollow(const std::string& topic) {
  caf::send_as(owner_, link_, unfollow_atom_v, topic);
}

publish_outcome peer_feed::publish(const publication_batch& batch) {
  caf::send_as(owner_, link_, publish_atom_v, batch);
  return publish_outcome::upstream; // homed here: delivered by the link
}

void peer_feed::describe(actor_stats& s) const {
  auto& m = node_metrics();
  s.extra.emplace_back("relayed_in", std::to_string(m.cluster_relayed_in.load()));
  s.extra.emplace_back("relayed_out", std::to_string(m.cluster_relayed_out.load()));
  s.extra.emplace_back("forwarded_out", std::to_string(m.cluster_forwarded_out.load()));
  s.extra.emplace_back("forwarded_in", std::to_string(m.cluster_forwarded_in.load()));
}

} // namespace tickgate
