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
  auto& m = node_metrics();
  if (auto n = subs.size() + held.size() + throttled.size(); n > 0)
    m.topic_subscriptions.fetch_sub(static_cast<int64_t>(n), std::memory_order_relaxed);
  if (history) {
    m.history_events.fetch_sub(static_cast<int64_t>(history->count()), std::memory_order_relaxed);
    m.history_bytes.fetch_sub(static_cast<int64_t>(history->bytes()), std::memory_order_relaxed);
  }
}

namespace {

using self_ptr = caf::stateful_actor<topic_state>*;

// One encoding per distinct wire format among the receivers; almost always
// one or two entries, so a vector beats a map.
class frame_cache {
public:
  /// `ts_us`, `stream`: the publish time and stream id event frames carry
  /// (frame in session_sink.hpp); 0 for other frames.
  explicit frame_cache(int64_t ts_us = 0, uint64_t stream = 0) : ts_us_(ts_us), stream_(stream) {
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
    return frame{e.f.bytes.adopt(), e.f.binary, e.f.ts_us, e.f.stream};
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
    entries_.back().f.stream = stream_;
    return entries_.back();
  }

  int64_t ts_us_;
  uint64_t stream_;
  std::vector<cached> entries_;
};

// Whether `s` is one of the receivers `pub` skips (publication::skip_members_of).
bool skips(const subscriber& s, const publication& pub) {
  auto* m = s.sink->membership.get();
  return m != nullptr && m->follows_any(*pub.skip_members_of);
}

// Monitors a new subscriber's connection and counts it; every subscriber
// passes here once, whether it is held first or goes live at once.
void watch(self_ptr self, const subscriber& s) {
  self->monitor(s.conn);
  node_metrics().topic_subscriptions.fetch_add(1, std::memory_order_relaxed);
}

void go_live(self_ptr self, subscriber s) {
  auto& st = self->state;
  st.index.emplace(s.conn.id(), st.subs.size());
  st.subs.push_back(std::move(s));
}

bool is_subscribed(self_ptr self, caf::actor_id id) {
  auto& st = self->state;
  return st.index.count(id) > 0 || st.throttled.count(id) > 0
         || std::any_of(st.held.begin(), st.held.end(),
                        [&](auto& h) { return h.s.conn.id() == id; });
}

// The grace before an idle topic asks to stop: with retained events, the
// longer of the grace and the history TTL.
std::chrono::milliseconds idle_wait(self_ptr self) {
  auto& st = self->state;
  if (st.history && st.history->count() > 0)
    return std::max(st.settings.topic_idle_grace,
                    std::chrono::duration_cast<std::chrono::milliseconds>(
                      st.history->limits().ttl));
  return st.settings.topic_idle_grace;
}

bool has_subscribers(self_ptr self) {
  auto& st = self->state;
  return !st.subs.empty() || !st.held.empty() || !st.throttled.empty();
}

void arm_grace_timer(self_ptr self) {
  auto& st = self->state;
  if (has_subscribers(self))
    return;
  st.idle_since = std::chrono::steady_clock::now();
  self->delayed_send(self, st.settings.topic_idle_grace, grace_atom_v,
                     ++st.grace_token);
}

// Removes the subscriber with actor id `id`, live or held; true if it was there.
bool remove_subscriber(self_ptr self, caf::actor_id id) {
  auto& st = self->state;
  auto h = std::find_if(st.held.begin(), st.held.end(),
                        [&](auto& x) { return x.s.conn.id() == id; });
  if (h != st.held.end()) {
    st.held.erase(h);
  } else if (st.throttled.erase(id) > 0) {
    st.throttle.remove(id);
  } else {
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
  }
  node_metrics().topic_subscriptions.fetch_sub(1, std::memory_order_relaxed);
  arm_grace_timer(self);
  return true;
}

// Adds what an append or expiry evicted to the node's counters.
void count_evictions(const history_evictions& ev) {
  auto& m = node_metrics();
  if (ev.size > 0)
    m.history_evicted_size.fetch_add(ev.size, std::memory_order_relaxed);
  if (ev.age > 0)
    m.history_evicted_ttl.fetch_add(ev.age, std::memory_order_relaxed);
  if (ev.bytes > 0)
    m.history_evicted_bytes.fetch_add(ev.bytes, std::memory_order_relaxed);
}

// Runs `change` on the history and moves the node's gauges by what it did.
template <class Change>
void change_history(self_ptr self, Change change) {
  auto& h = *self->state.history;
  auto count = static_cast<int64_t>(h.count());
  auto bytes = static_cast<int64_t>(h.bytes());
  count_evictions(change(h));
  // Per publication: once a ring is full its count stays, so most appends
  // touch the shared gauges once (bytes), not twice.
  auto& m = node_metrics();
  if (auto d = static_cast<int64_t>(h.count()) - count; d != 0)
    m.history_events.fetch_add(d, std::memory_order_relaxed);
  if (auto d = static_cast<int64_t>(h.bytes()) - bytes; d != 0)
    m.history_bytes.fetch_add(d, std::memory_order_relaxed);
}

// A numbered event (carried from an upstream) is as old as its publish
// time says: one read from a Redis stream when the topic started may be
// minutes old, and expires from the history as such.
void retain(self_ptr self, const publication_ptr& pub) {
  auto& st = self->state;
  auto at = std::chrono::steady_clock::now();
  if (pub->seq != 0 && pub->ts_us > 0)
    at -= std::chrono::microseconds(std::max<int64_t>(0, now_us() - pub->ts_us));
  change_history(self, [&](topic_history& h) { return h.append(st.seq, pub, at); });
}

void expire_history(self_ptr self) {
  change_history(self, [](topic_history& h) {
    return h.expire(std::chrono::steady_clock::now());
  });
}

// Sends a conflated event to the members of one throttle group, encoded
// once per wire format among them.
void send_to_group(self_ptr self, const conflator<caf::actor_id, topic_state::conflated_event>::group& g,
                   const topic_state::conflated_event& ce) {
  auto& st = self->state;
  if (ce.epoch_changes != st.epoch_changes)
    return; // held from before a new epoch began
  auto& pub = *ce.ev.pub;
  frame_cache frames{pub.ts_us, self->id()};
  auto ev = event_fields_of(st.name, ce.ev.seq, st.epoch, pub);
  uint64_t queued = 0;
  for (auto id : g.members()) {
    auto s = st.throttled.find(id);
    if (s == st.throttled.end())
      continue;
    auto& sub = s->second;
    if (pub.skip_members_of && skips(sub, pub))
      continue;
    if (sub.sink->send(frames.get(sub.format, [&] { return encode_event_frame(sub.format, ev); }))
        == send_result::queued)
      ++queued;
  }
  st.delivered += queued;
  node_metrics().topic_events_out.fetch_add(queued, std::memory_order_relaxed);
}

// Applies a throttle step's outcome: counts what it conflated away and
// arms the timer it asks for.
template <class Step>
void after_throttle_step(self_ptr self, const Step& step) {
  if (step.conflated > 0)
    node_metrics().topic_conflated.fetch_add(step.conflated, std::memory_order_relaxed);
  if (step.arm) {
    auto wait = *step.arm - std::chrono::steady_clock::now();
    self->delayed_send(self,
                       std::max(std::chrono::duration_cast<std::chrono::microseconds>(wait),
                                std::chrono::microseconds{0}),
                       throttle_atom_v);
  }
}

void conflate(self_ptr self, uint64_t seq, const publication_ptr& ptr) {
  auto& st = self->state;
  auto step = st.throttle.on_event(
    topic_state::conflated_event{retained_event{seq, ptr}, st.epoch_changes},
    std::chrono::steady_clock::now(),
    [&](auto& group, auto& ce) { send_to_group(self, group, ce); });
  after_throttle_step(self, step);
}

void enter_epoch(self_ptr self, std::string epoch, uint64_t seq);
void begin_epoch(self_ptr self);

// Places `pub` in the topic's stream: a numbered one (by the topic's home
// node, or by Redis) at its own position, false if the topic has it already;
// an unnumbered one after the last, in an epoch of this actor's (an
// upstream's numbering cannot be continued here without clashing with its
// next event, so a plain publish into a carried stream begins a new epoch).
bool take_place(self_ptr self, const publication& pub) {
  auto& st = self->state;
  if (pub.seq == 0) {
    if (st.carried)
      begin_epoch(self);
    return true;
  }
  if ((pub.epoch == st.epoch && pub.seq <= st.seq)
      || (pub.epoch == st.upstream_epoch && pub.seq <= st.upstream_seq)) {
    node_metrics().cluster_duplicates.fetch_add(1, std::memory_order_relaxed);
    return false; // already delivered (a relay replayed what the topic had)
  }
  if (pub.epoch != st.epoch || pub.seq != st.seq + 1 || !st.carried)
    enter_epoch(self, pub.epoch, pub.seq - 1);
  st.carried = true;
  st.upstream_epoch = pub.epoch;
  st.upstream_seq = pub.seq;
  return true;
}

void fan_out(self_ptr self, const publication_ptr& ptr) {
  auto& st = self->state;
  auto& m = node_metrics();
  auto& pub = *ptr;
  if ((pub.seq != 0 || st.carried) && !take_place(self, pub))
    return;
  m.topic_events_in.fetch_add(1, std::memory_order_relaxed);
  st.last_publish_us = pub.ts_us;
  ++st.published;
  ++st.seq;
  retain(self, ptr);
  for (auto& h : st.held)
    if (h.confirmed)
      h.backlog.push_back(retained_event{st.seq, ptr});
  if (!st.throttle.empty())
    conflate(self, st.seq, ptr);
  if (st.subs.empty()) {
    if (st.held.empty() && st.throttled.empty())
      m.topic_unrouted.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  // Encode lazily, once per wire format in use.
  // The topic's actor id names its stream (the conflate slow-consumer policy).
  frame_cache frames{pub.ts_us, self->id()};
  auto ev = event_fields_of(st.name, st.seq, st.epoch, pub);
  uint64_t bytes = 0;
  uint64_t queued = 0;
  // Counted before the sends, corrected after: a client may read its frame
  // before this loop ends, and a metrics scrape after that read must see it.
  m.topic_events_out.fetch_add(st.subs.size(), std::memory_order_relaxed);
  size_t left = st.subs.size();
  // Scoped publications (rare) ask each receiver's membership; others pay one test.
  bool scoped = pub.skip_members_of != nullptr;
  for (auto& s : st.subs) {
    auto receivers = left--;
    if (scoped && skips(s, pub))
      continue;
    auto f = frames.share(s.format, [&] { return encode_event_frame(s.format, ev); }, receivers);
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

// Takes the held subscriber's position and, as its options ask, the
// retained events it starts with, and tells its connection.
void confirm_attach(self_ptr self, topic_state::held_subscriber& h) {
  auto& st = self->state;
  auto& m = node_metrics();
  topic_position pos{st.name, st.epoch, st.seq, std::nullopt};
  expire_history(self);
  auto& hist = *st.history;
  if (auto* opts = h.s.options.get()) {
    if (auto* since = opts->since_for(st.name)) {
      if (since->epoch != st.epoch) {
        pos.recovered = false;
        m.recover_epoch.fetch_add(1, std::memory_order_relaxed);
      } else if (!hist.covers(since->seq, st.seq)) {
        pos.recovered = false;
        m.recover_gap.fetch_add(1, std::memory_order_relaxed);
      } else {
        pos.recovered = true;
        m.recover_ok.fetch_add(1, std::memory_order_relaxed);
        h.backlog = hist.after(since->seq);
      }
    } else if (opts->snapshot) {
      h.backlog = hist.from_snapshot();
    } else if (opts->last > 0) {
      h.backlog = hist.last(opts->last);
    }
  }
  h.confirmed = true;
  h.position = st.seq;
  self->send(h.s.conn, attached_atom_v, h.req, st.name, caf::actor{self}, std::move(pos));
}

// Holds a new subscriber until its connection acked the client.
topic_state::held_subscriber& hold(self_ptr self, uint64_t req, subscriber s) {
  auto& st = self->state;
  watch(self, s);
  st.held.push_back(topic_state::held_subscriber{std::move(s), req, false, 0, {}, false});
  return st.held.back();
}

// The client has its ack: its backlog, then live events.
void release(self_ptr self, caf::actor_id id) {
  auto& st = self->state;
  auto h = std::find_if(st.held.begin(), st.held.end(),
                        [&](auto& x) { return x.s.conn.id() == id && x.confirmed; });
  if (h == st.held.end())
    return; // left meanwhile
  auto held = std::move(*h);
  st.held.erase(h);
  auto& s = held.s;
  if (held.reset)
    s.sink->send(make_frame(encode_reset_frame(s.format, st.name, st.epoch), is_binary(s.format)));
  // A throttled subscriber gets what it asked to replay, then of the events
  // published while its ack was on the way only the newest (its first
  // conflated value); the group's cadence takes over from there.
  bool throttled = s.options && s.options->throttle_ms > 0;
  auto& backlog = held.backlog;
  if (throttled) {
    auto live = std::find_if(backlog.begin(), backlog.end(),
                             [&](auto& e) { return e.seq > held.position; });
    if (live != backlog.end() && live + 1 != backlog.end()) {
      auto skipped = static_cast<uint64_t>(backlog.end() - live - 1);
      node_metrics().topic_conflated.fetch_add(skipped, std::memory_order_relaxed);
      backlog.erase(live, backlog.end() - 1);
    }
  }
  uint64_t replayed = 0;
  uint64_t queued = 0;
  for (auto& e : backlog) {
    auto& pub = *e.pub;
    if (pub.skip_members_of && skips(s, pub))
      continue;
    bool replay = e.seq <= held.position;
    // A replayed event is not a publication's delivery: no publish time,
    // so the publish-to-write latency counts live events only.
    auto ev = event_fields_of(st.name, e.seq, st.epoch, pub);
    auto f = make_frame(encode_event_frame(s.format, ev), is_binary(s.format));
    f.ts_us = replay ? 0 : pub.ts_us;
    f.stream = self->id();
    if (s.sink->send(std::move(f)) == send_result::queued) {
      replayed += replay ? 1 : 0;
      ++queued;
    }
  }
  st.replayed += replayed;
  st.delivered += queued;
  auto& m = node_metrics();
  m.topic_events_out.fetch_add(queued, std::memory_order_relaxed);
  if (replayed > 0)
    m.history_replayed.fetch_add(replayed, std::memory_order_relaxed);
  if (throttled) {
    auto id = s.conn.id();
    st.throttle.add(id, std::chrono::milliseconds{s.options->throttle_ms});
    st.throttled.emplace(id, std::move(s));
  } else {
    go_live(self, std::move(s));
  }
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
  s.extra.emplace_back("subscribers",
                       std::to_string(st.subs.size() + st.held.size() + st.throttled.size()));
  s.extra.emplace_back("throttled", std::to_string(st.throttled.size()));
  s.extra.emplace_back("seq", std::to_string(st.seq));
  s.extra.emplace_back("epoch", json_quoted(st.epoch));
  s.extra.emplace_back("feed", json_quoted(st.feed_up ? "up" : "down"));
  s.extra.emplace_back("retained", std::to_string(st.history->count()));
  s.extra.emplace_back("retained_bytes", std::to_string(st.history->bytes()));
  auto snap = st.history->snapshot_at();
  s.extra.emplace_back("snapshot_age_ms",
                       snap ? std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                               std::chrono::steady_clock::now() - *snap)
                                               .count())
                            : std::string{"null"});
  s.extra.emplace_back("replayed", std::to_string(st.replayed));
  s.extra.emplace_back("last_publish_age_ms",
                       st.last_publish_us == 0
                         ? std::string{"null"}
                         : std::to_string((now_us() - st.last_publish_us) / 1000));
  return s;
}

caf::behavior serving(self_ptr self);

// Continuity is broken: the topic goes on in `epoch` after `seq`, the old
// epoch's history goes, so nobody resumes across the gap. Subscribers are
// told with a reset frame; held ones get theirs on release.
void enter_epoch(self_ptr self, std::string epoch, uint64_t seq) {
  auto& st = self->state;
  st.epoch = std::move(epoch);
  ++st.epoch_changes;
  st.seq = seq;
  change_history(self, [](topic_history& h) {
    h.clear();
    return history_evictions{};
  });
  spdlog::info("topic.new_epoch name={} epoch={} seq={}", st.name, st.epoch, seq);
  frame_cache frames;
  auto reset = [&](const subscriber& s) {
    s.sink->send(frames.get(s.format, [&] {
      return encode_reset_frame(s.format, st.name, st.epoch);
    }));
  };
  for (auto& s : st.subs)
    reset(s);
  for (auto& [id, s] : st.throttled)
    reset(s);
  for (auto& h : st.held)
    if (h.confirmed) {
      h.backlog.clear();
      h.reset = true;
    }
}

// The feed was down (events may have been published that the topic never
// saw), or the topic's home moved here: a new epoch of its own begins and
// seq counts from 1 again.
void begin_epoch(self_ptr self) {
  auto& st = self->state;
  enter_epoch(self, st.base_epoch + "." + std::to_string(st.epoch_changes + 1), 0);
  st.carried = false;
}

// A feed that numbers the topic's events elsewhere (the topic's home node)
// delivers it from `epoch`/`seq` on: an empty epoch means this node numbers
// them now. A topic still waiting for its feeds just takes the position.
void take_position(self_ptr self, const std::string& epoch, uint64_t seq, bool waiting) {
  auto& st = self->state;
  if (epoch.empty()) {
    if (!waiting)
      begin_epoch(self);
    st.carried = false;
    return;
  }
  if (epoch != st.epoch || seq != st.seq)
    enter_epoch(self, epoch, seq);
  st.carried = true;
  st.upstream_epoch = epoch;
  st.upstream_seq = seq;
}

// The upstream's recent stream of the topic (a Redis stream read when the
// topic started, or after an outage), oldest first, up to the position it
// reports with it: what the topic lacks is retained, and, while it serves,
// sent to its subscribers, who then continue without a gap where the stream
// reaches back far enough.
void catch_up(self_ptr self, const publication_batch& backfill) {
  auto& st = self->state;
  bool listened = !st.subs.empty() || !st.throttled.empty()
                  || std::any_of(st.held.begin(), st.held.end(), [](auto& h) { return h.confirmed; });
  for (auto& p : backfill) {
    if (p->seq == 0)
      continue;
    if (listened) {
      fan_out(self, p);
    } else if (take_place(self, *p)) {
      ++st.seq; // nobody to send it to yet: retained for the attaches to come
      retain(self, p);
    }
  }
}

// A re-attach (request 0) follows a failure of an earlier incarnation: tell the
// client the new epoch before it sees any event of it.
void announce_epoch(self_ptr self, uint64_t req, const subscriber& s) {
  if (req != 0)
    return;
  auto& st = self->state;
  s.sink->send(make_frame(encode_reset_frame(s.format, st.name, st.epoch), is_binary(s.format)));
}

// What the topic retains, for HTTP snapshot and history requests.
history_reply answer_query(self_ptr self, const history_query& q) {
  auto& st = self->state;
  expire_history(self);
  history_reply r{st.name, st.epoch, st.seq, false, {}};
  auto& hist = *st.history;
  if (q.what == history_query::kind::latest) {
    if (auto e = hist.latest())
      r.events.push_back(std::move(*e));
    return r;
  }
  if (!q.since) {
    r.events = hist.after(0, q.limit);
    return r;
  }
  r.recovered = q.since->epoch == st.epoch && hist.covers(q.since->seq, st.seq);
  if (r.recovered)
    r.events = hist.after(q.since->seq, q.limit);
  return r;
}

// Handlers both phases share.
caf::message_handler common(self_ptr self) {
  return {
    [self](detach_atom, uint64_t req, const connection_actor_type& conn) {
      // Confirm an attach still awaiting the feed first, so the client's
      // subscribe ack precedes its unsubscribe ack.
      for (auto& h : self->state.held)
        if (h.s.conn == conn && !h.confirmed)
          confirm_attach(self, h);
      if (remove_subscriber(self, conn.id()))
        self->demonitor(conn.address());
      self->send(conn, detached_atom_v, req, self->state.name);
    },
    [self](release_atom, const caf::actor& conn) { release(self, conn.id()); },
    [self](throttle_atom) {
      auto step = self->state.throttle.on_timer(
        std::chrono::steady_clock::now(),
        [&](auto& group, auto& ce) { send_to_group(self, group, ce); });
      after_throttle_step(self, step);
    },
    [self](route_atom, const publication_ptr& pub) { fan_out(self, pub); },
    [self](route_atom, const publication_batch& batch) {
      for (auto& pub : batch)
        fan_out(self, pub);
    },
    [self](history_atom, const history_query& q) {
      // An HTTP poller keeps the topic (and its feed subscription) alive
      // like a subscriber that just left. The router counted the query as
      // an attach (its idle handshake).
      ++self->state.attaches_seen;
      arm_grace_timer(self);
      return answer_query(self, q);
    },
    [self](grace_atom, uint64_t token) {
      auto& st = self->state;
      if (token != st.grace_token || has_subscribers(self))
        return;
      auto waited = std::chrono::steady_clock::now() - st.idle_since;
      auto wait = idle_wait(self);
      if (waited < wait) {
        self->delayed_send(self, std::chrono::duration_cast<std::chrono::milliseconds>(wait - waited)
                                   + std::chrono::milliseconds{1},
                           grace_atom_v, st.grace_token);
        return;
      }
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

// A feed reported while the topic awaits its feeds: once every feed has,
// the held attaches are confirmed and the topic serves.
void feeds_reported(self_ptr self, bool up, const std::string& message) {
  auto& st = self->state;
  record_feed_status(self, up, message);
  if (st.feeds.size() < st.feeds_expected)
    return; // another feed has yet to report
  std::vector<subscriber> waiting;
  for (auto& h : st.held)
    waiting.push_back(h.s);
  if (!st.feed_up)
    send_status(self, waiting);
  for (auto& h : st.held)
    if (!h.confirmed)
      confirm_attach(self, h);
  // Re-attaches (request 0) have no ack to wait for.
  for (auto& w : waiting)
    if (auto h = std::find_if(st.held.begin(), st.held.end(),
                              [&](auto& x) { return x.s.conn == w.conn; });
        h != st.held.end() && h->req == 0)
      release(self, w.conn.id());
  self->become(serving(self));
}

caf::behavior awaiting_feed(self_ptr self) {
  return caf::message_handler{
    [self](attach_atom, uint64_t req, subscriber& s) {
      auto& st = self->state;
      ++st.attaches_seen;
      if (is_subscribed(self, s.conn.id())) {
        self->send(s.conn, attached_atom_v, req, st.name, caf::actor{self},
                   topic_position{st.name, st.epoch, st.seq, std::nullopt});
        return;
      }
      announce_epoch(self, req, s);
      hold(self, req, std::move(s));
    },
    [self](feed_atom, bool up, const std::string& message) {
      feeds_reported(self, up, message);
    },
    [self](feed_atom, bool up, const std::string& message, const std::string& epoch,
           uint64_t seq) {
      take_position(self, epoch, seq, true);
      feeds_reported(self, up, message);
    },
    [self](feed_atom, bool up, const std::string& message, const std::string& epoch,
           uint64_t seq, const publication_batch& backfill) {
      catch_up(self, backfill);
      take_position(self, epoch, seq, true);
      feeds_reported(self, up, message);
    },
  }.or_else(common(self));
}

caf::behavior serving(self_ptr self) {
  return caf::message_handler{
    [self](attach_atom, uint64_t req, subscriber& s) {
      auto& st = self->state;
      ++st.attaches_seen;
      if (is_subscribed(self, s.conn.id())) {
        self->send(s.conn, attached_atom_v, req, st.name, caf::actor{self},
                   topic_position{st.name, st.epoch, st.seq, std::nullopt});
        return;
      }
      announce_epoch(self, req, s);
      if (!st.feed_up)
        send_status(self, {s});
      auto id = s.conn.id();
      confirm_attach(self, hold(self, req, std::move(s)));
      if (req == 0)
        release(self, id); // a re-attach: no ack to wait for
    },
    [self](feed_atom, bool up, const std::string& message) {
      auto& st = self->state;
      if (!record_feed_status(self, up, message))
        return;
      spdlog::info("topic.feed name={} state={}", st.name,
                   st.feed_up ? "up" : "down");
      send_status(self, st.subs);
      std::vector<subscriber> throttled;
      for (auto& [id, sub] : st.throttled)
        throttled.push_back(sub);
      send_status(self, throttled);
      if (st.feed_up)
        begin_epoch(self); // what was published during the outage is unknown
    },
    [self](feed_atom, bool up, const std::string& message, const std::string& epoch,
           uint64_t seq) {
      // The topic's home node changed (or the feed re-followed it): the
      // stream goes on at the home's position.
      record_feed_status(self, up, message);
      take_position(self, epoch, seq, false);
    },
    [self](feed_atom, bool up, const std::string& message, const std::string& epoch,
           uint64_t seq, const publication_batch& backfill) {
      // The feed is back (or followed the topic again) with the upstream's
      // position and its recent stream: subscribers get what they missed,
      // or a reset where the stream does not reach back to them.
      auto& st = self->state;
      if (record_feed_status(self, up, message)) {
        send_status(self, st.subs);
        std::vector<subscriber> throttled;
        for (auto& [id, sub] : st.throttled)
          throttled.push_back(sub);
        send_status(self, throttled);
      }
      catch_up(self, backfill);
      take_position(self, epoch, seq, false);
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
  st.base_epoch = st.epoch;
  st.router = std::move(router);
  st.settings = std::move(settings);
  st.history = std::make_unique<topic_history>(st.settings.history.for_topic(st.name),
                                               st.settings.history.budget);
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
