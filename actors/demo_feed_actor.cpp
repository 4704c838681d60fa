#include "actors/demo_feed_actor.hpp"

#include <algorithm>
#include <cmath>

#include <caf/event_based_actor.hpp>
#include <spdlog/fmt/fmt.h>

#include "actors/inspector_actor.hpp"
#include "actors/vocabulary.hpp"

namespace tickgate {

namespace {

using self_ptr = caf::stateful_actor<demo_feed_state>*;

// Tick often enough for smooth pacing, rarely enough to stay cheap.
constexpr auto tick_interval = std::chrono::milliseconds(50);

publication_ptr make_pub(std::string topic, std::string payload, int64_t ts) {
  auto p = std::make_shared<publication>();
  p->topic = std::move(topic);
  p->payload = std::move(payload);
  p->kind = payload_kind::json;
  p->ts_us = ts;
  return p;
}

void publish_trade(self_ptr self, publication_batch& out, int64_t ts) {
  auto& st = self->state;
  auto n = st.settings.symbols.size();
  auto i = st.trade_id % n;
  auto round = st.trade_id / n; // every symbol trades once per round
  auto& sym = st.settings.symbols[i];
  std::normal_distribution<double> step(0.0, 0.0005);
  st.prices[i] = std::max(0.01, st.prices[i] * (1.0 + step(st.rng)));
  std::uniform_int_distribution<int> qty(1, 500);
  std::bernoulli_distribution maker(0.5);
  ++st.trade_id;
  out.push_back(make_pub(
    "trade@" + sym,
    fmt::format(R"({{"e":"trade","s":"{}","t":{},"p":"{:.2f}","q":"{}","m":{},"T":{}}})",
                sym, st.trade_id, st.prices[i], qty(st.rng),
                maker(st.rng) ? "true" : "false", ts / 1000),
    ts));
  if (round % 5 == 0)
    out.push_back(make_pub(
      "ticker@" + sym,
      fmt::format(R"({{"e":"ticker","s":"{}","c":"{:.2f}","E":{}}})", sym,
                  st.prices[i], ts / 1000),
      ts));
}

} // namespace

caf::behavior demo_feed_actor(self_ptr self, caf::actor bus,
                              demo_feed_settings settings) {
  auto& st = self->state;
  st.bus = std::move(bus);
  st.settings = std::move(settings);
  if (st.settings.symbols.empty())
    st.settings.symbols.emplace_back("DEMO");
  for (size_t i = 0; i < st.settings.symbols.size(); ++i)
    st.prices.push_back(100.0 + 50.0 * static_cast<double>(i));
  st.started = std::chrono::steady_clock::now();
  self->send(self, tick_atom_v);
  return {
    [self](tick_atom) {
      auto& st = self->state;
      // Publish what the rate owes since start, so pacing does not drift.
      using secs = std::chrono::duration<double>;
      auto elapsed = secs(std::chrono::steady_clock::now() - st.started).count();
      auto due = static_cast<uint64_t>(std::floor(elapsed * st.settings.rate));
      publication_batch batch;
      auto ts = now_us();
      for (; st.sent < due; ++st.sent)
        publish_trade(self, batch, ts);
      if (!batch.empty())
        self->send(st.bus, publish_atom_v, std::move(batch));
      self->delayed_send(self, tick_interval, tick_atom_v);
    },
    [self](register_atom, const caf::actor& inspector) {
      register_with(self, inspector, "demo_feed");
    },
    [self](inspect_atom) {
      auto& st = self->state;
      actor_stats s;
      s.kind = "demo_feed";
      s.name = "demo_feed";
      s.id = self->id();
      s.mailbox = self->mailbox().size();
      s.msgs_out = st.sent;
      s.age_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now() - st.started).count();
      s.extra.emplace_back("symbols", std::to_string(st.settings.symbols.size()));
      s.extra.emplace_back("rate", std::to_string(st.settings.rate));
      return s;
    },
  };
}

} // namespace tickgate
