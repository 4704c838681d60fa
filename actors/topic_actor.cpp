#include "actors/topic_actor.hpp"

#include <algorithm>
#include <optional>
#include <stdexcept>

#include <caf/event_based_actor.hpp>
#include <spdlog/spdlog.h>

#include "actors/inspector_actor.hpp"
#include "actors/metrics.hpp"
#include "proto/frame_codec.hpp"
#include "proto/json_writer.hpp"

namespace tickgate {

topic_state::~topic_state() {
  if (!subs.empty())
    node_metrics().topic_subscriptions.fetch_sub(static_cast<int64_t>(subs.size()),
                                                 std::memory_order_relaxed);
}

namespace {

using self_ptr = caf::stateful_actor<topic_state>*;

// One encoding per distinct wire format among the receivers; almost always
// one or two entries, so a vector beats a map.
class frame_cache {
public:
  explicit frame_cache(int64_t ts_us = 0) : ts_us_(ts_us) {
  }
  frame_cache(const frame_cache&) = delete;
  frame_cache& operator=(const frame_cache&) = delete;
  ~frame_cache() {
    for (auto& e : entries_)
      e.f.bytes.unreserve(e.spare);
  }

  template <class Encode>
  const frame& get(const wire_format& f, Encode encode) {
    return entry(f, encode).f;
  }

  /// The frame for one of `left` receivers still to be sent to (this one
  /// included, whatever their formats). A format's first call takes
  /// references for all of them in one step; the ones not handed out go
  /// back at the end.
  template <class Encode>
  frame share(const wire_format& f, Encode encode, size_t left) {
    auto& e = entry(f, encode);
    if (e.spare == 0) {
      auto n = std::max<size_t>(left, 1);
      e.f.bytes.reserve(n);
      e.spare = n;
    }
    --e.spare;
    return frame{e.f.bytes.adopt(), e.f.binary, e.f.ts_us};
  }

private:
  struct cached {
    uint32_t key;
    frame f;
    size_t spare = 0; // references taken for receivers not sent to yet
  };

  template <class Encode>
  cached& entry(const wire_format& f, Encode encode) {
    auto key = f.key();
    for (auto& e : entries_)
      if (e.key == key)
        return e;
    entries_.push_back(cached{key, make_frame(encode(), is_binary(f))});
    entries_.back().f.ts_us = ts_us_;
    return entries_.back();
  }

  int64_t ts_us_;
  std::vector<cached> entries_;
};

bool add_subscriber(self_ptr self, subscriber s) {
  auto& st = self->state;
  auto id = s.conn.id();
  if (st.index.count(id) > 0)
    return false;
  self->monitor(s.conn);
  st.index.emplace(id, st.subs.size());
  st.subs.push_back(std::move(s));
  node_metrics().topic_subscriptions.fetch_add(1, std::memory_order_relaxed);
  return true;
}

void arm_grace_timer(self_ptr self) {
  auto& st = self->state;
  if (!st.subs.empty())
    return;
  self->delayed_send(self, st.settings.topic_idle_grace, grace_atom_v,
                     ++st.grace_token);
}

// Swap-removes the subscriber with actor id `id`; true if it was there.
bool remove_subscriber(self_ptr self, caf::actor_id id) {
  auto& st = self->state;
  auto i = st.index.find(id);
  if (i == st.index.end())
    return false;
  auto pos = i->second;
  st.index.erase(i);
  if (pos + 1 != st.subs.size()) {
    st.subs[pos] = std::move(st.subs.back());
    st.index[st.subs[pos].conn.id()] = pos;
  }
  st.subs.pop_back();
  node_metrics().topic_subscriptions.fetch_sub(1, std::memory_order_relaxed);
  arm_grace_timer(self);
  return true;
}

void fan_out(self_ptr self, const publication& pub) {
  auto& st = self->state;
  auto& m = node_metrics();
  m.topic_events_in.fetch_add(1, std::memory_order_relaxed);
  st.last_publish_us = pub.ts_us;
  ++st.published;
  ++st.seq;
  if (st.subs.empty()) {
    m.topic_unrouted.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  // Encode lazily, once per wire format in use.
  frame_cache frames{pub.ts_us};
  event_fields ev{st.name, st.seq, st.epoch, pub.ts_us, pub.payload, pub.kind};
  uint64_t bytes = 0;
  uint64_t queued = 0;
  // Counted before the sends, corrected after: a client may read its frame
  // before this loop ends, and a metrics scrape after that read must see it.
  m.topic_events_out.fetch_add(st.subs.size(), std::memory_order_relaxed);
  size_t left = st.subs.size();
  for (auto& s : st.subs) {
    auto f = frames.share(s.format, [&] { return encode_event_frame(s.format, ev); }, left--);
    f.stream = self->id(); // this topic's events, for the conflate slow-consumer policy
    auto size = f.bytes.size();
    // An overflowing session closes itself; its connection actor then quits
    // and the down handler removes it here.
    if (s.sink->send(std::move(f)) == send_result::queued) {
      ++queued;
      bytes += size;
    }
  }
  st.delivered += queued;
  if (queued < st.subs.size())
    m.topic_events_out.fetch_sub(st.subs.size() - queued, std::memory_order_relaxed);
  m.topic_bytes_out.fetch_add(bytes, std::memory_order_relaxed);
}

// Sends a status frame to `subs`, encoded once per wire format.
void send_status(self_ptr self, const std::vector<subscriber>& subs) {
  auto& st = self->state;
  frame_cache frames;
  auto state = st.feed_up ? "feed_up" : "feed_down";
  auto message = st.feed_up ? std::string{"deliveries resumed"} : st.feed_message;
  for (auto& s : subs)
    s.sink->send(frames.get(s.format, [&] {
      return encode_status_frame(s.format, st.name, state, message);
    }));
}

void confirm_attach(self_ptr self, const connection_actor_type& conn, uint64_t req) {
  auto& st = self->state;
  self->send(conn, attached_atom_v, req, st.name, caf::actor{self}, st.epoch);
}

actor_stats describe(self_ptr self) {
  auto& st = self->state;
  actor_stats s;
  s.kind = "topic";
  s.name = st.name;
  s.id = self->id();
  s.mailbox = self->mailbox().size();
  s.msgs_in = st.published;
  s.msgs_out = st.delivered;
  s.age_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now() - st.started)
               .count();
  s.restarts = st.restarts;
  s.extra.emplace_back("subscribers", std::to_string(st.subs.size()));
  s.extra.emplace_back("seq", std::to_string(st.seq));
  s.extra.emplace_back("epoch", json_quoted(st.epoch));
  s.extra.emplace_back("feed", json_quoted(st.feed_up ? "up" : "down"));
  s.extra.emplace_back("last_publish_age_ms",
                       st.last_publish_us == 0
                         ? std::string{"null"}
                         : std::to_string((now_us() - st.last_publish_us) / 1000));
  return s;
}

caf::behavior serving(self_ptr self);

// A re-attach (request 0) follows a failure of an earlier incarnation: tell the
// client the new epoch before it sees any event of it.
void announce_epoch(self_ptr self, uint64_t req, const subscriber& s) {
  if (req != 0)
    return;
  auto& st = self->state;
  s.sink->send(make_frame(encode_reset_frame(s.format, st.name, st.epoch), is_binary(s.format)));
}

// Handlers both phases share.
caf::message_handler common(self_ptr self) {
  return {
    [self](detach_atom, uint64_t req, const connection_actor_type& conn) {
      // Confirm an attach still awaiting the feed first, so the client's
      // subscribe ack precedes its unsubscribe ack.
      auto& owed = self->state.unconfirmed;
      for (auto i = owed.begin(); i != owed.end();) {
        if (i->first == conn) {
          confirm_attach(self, i->first, i->second);
          i = owed.erase(i);
        } else {
          ++i;
        }
      }
      if (remove_subscriber(self, conn.id()))
        self->demonitor(conn.address());
      self->send(conn, detached_atom_v, req, self->state.name);
    },
    [self](route_atom, const publication_ptr& pub) { fan_out(self, *pub); },
    [self](route_atom, const publication_batch& batch) {
      for (auto& pub : batch)
        fan_out(self, *pub);
    },
    [self](grace_atom, uint64_t token) {
      auto& st = self->state;
      if (token == st.grace_token && st.subs.empty())
        self->send(st.router, idle_atom_v, st.name, st.attaches_seen);
    },
    [self](stop_atom) {
      spdlog::debug("topic.stop name={} seq={}", self->state.name,
                    self->state.seq);
      self->quit();
    },
    [self](inspect_atom) { return describe(self); },
    [self](fault_atom) {
      spdlog::warn("topic.fault_injected name={} epoch={}", self->state.name,
                   self->state.epoch);
      throw std::runtime_error("fault injected by operator");
    },
  };
}

// Records the sending feed actor's status; returns true when the topic's
// overall status (up while every feed is) changed.
bool record_feed_status(self_ptr self, bool up, const std::string& message) {
  auto& st = self->state;
  auto sender = caf::actor_cast<caf::actor_addr>(self->current_sender());
  auto i = std::find_if(st.feeds.begin(), st.feeds.end(),
                        [&](auto& f) { return f.feed == sender; });
  if (i == st.feeds.end())
    i = st.feeds.insert(st.feeds.end(), topic_state::feed_status{sender, false, {}});
  i->up = up;
  i->message = message;
  auto down = std::find_if(st.feeds.begin(), st.feeds.end(), [](auto& f) { return !f.up; });
  bool all_up = down == st.feeds.end();
  bool changed = all_up != st.feed_up;
  st.feed_up = all_up;
  st.feed_message = all_up ? std::string{} : down->message;
  return changed;
}

caf::behavior awaiting_feed(self_ptr self) {
  return caf::message_handler{
    [self](attach_atom, uint64_t req, subscriber& s) {
      auto& st = self->state;
      ++st.attaches_seen;
      st.unconfirmed.emplace_back(s.conn, req);
      announce_epoch(self, req, s);
      add_subscriber(self, std::move(s));
    },
    [self](feed_atom, bool up, const std::string& message) {
      auto& st = self->state;
      record_feed_status(self, up, message);
      if (st.feeds.size() < st.feeds_expected)
        return; // another feed has yet to report
      if (!st.feed_up)
        send_status(self, st.subs);
      for (auto& [conn, req] : st.unconfirmed)
        confirm_attach(self, conn, req);
      st.unconfirmed.clear();
      self->become(serving(self));
    },
  }.or_else(common(self));
}

caf::behavior serving(self_ptr self) {
  return caf::message_handler{
    [self](attach_atom, uint64_t req, subscriber& s) {
      auto& st = self->state;
      ++st.attaches_seen;
      auto conn = s.conn;
      announce_epoch(self, req, s);
      if (!st.feed_up)
        send_status(self, {s});
      add_subscriber(self, std::move(s));
      confirm_attach(self, conn, req);
    },
    [self](feed_atom, bool up, const std::string& message) {
      auto& st = self->state;
      if (!record_feed_status(self, up, message))
        return;
      spdlog::info("topic.feed name={} state={}", st.name,
                   st.feed_up ? "up" : "down");
      send_status(self, st.subs);
    },
  }.or_else(common(self));
}

} // namespace

caf::behavior topic_actor(self_ptr self, std::string name, std::string epoch,
                          caf::actor router, routing_settings settings,
                          size_t feeds, uint64_t restarts) {
  auto& st = self->state;
  st.feeds_expected = feeds;
  st.restarts = restarts;
  st.name = std::move(name);
  st.epoch = std::move(epoch);
  st.router = std::move(router);
  st.settings = std::move(settings);
  node_metrics().topic_live.fetch_add(1, std::memory_order_relaxed);
  self->attach_functor([] {
    node_metrics().topic_live.fetch_sub(1, std::memory_order_relaxed);
  });
  self->set_down_handler(
    [self](caf::down_msg& dm) { remove_subscriber(self, dm.source.id()); });
  register_with(self, st.settings.inspector, "topic");
  spdlog::debug("topic.start name={} epoch={}", st.name, st.epoch);
  arm_grace_timer(self); // a topic spawned for an attach that was withdrawn still ends
  return feeds > 0 ? awaiting_feed(self) : serving(self);
}

} // namespace tickgate
