#include "actors/demo_feed_actor.hpp"

#include <algorithm>
#include <cmath>

#include <caf/event_based_actor.hpp>
#include <spdlog/fmt/fmt.h>

#include "actors/inspector_actor.hpp"
#include "actors/vocabulary.hpp"
#include "proto/dialect_settings.hpp"

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

// Roughly where the default symbols trade, so the numbers look familiar;
// other symbols start at 100, 150, 200, ...
double start_price(const std::string& sym, size_t i) {
  static const std::pair<const char*, double> known[] = {
    {"AAPL", 190.0}, {"MSFT", 420.0}, {"GOOGL", 170.0}, {"TSLA", 250.0},
    {"BTC-USD", 65000.0}, {"ETH-USD", 3400.0}};
  for (auto& [name, price] : known)
    if (sym == name)
      return price;
  return 100.0 + 50.0 * static_cast<double>(i);
}

demo_feed_state::symbol_topics topics_of(const std::string& sym) {
  demo_feed_state::symbol_topics t;
  t.trade = "trade@" + sym;
  t.ticker = "ticker@" + sym;
  t.depth = "depth@" + sym;
  auto add = [&](std::vector<std::string>& to, const std::string& templ) {
    auto topic = dialect_settings::expand(templ, sym);
    if (topic && std::find(to.begin(), to.end(), *topic) == to.end())
      to.push_back(*topic);
  };
  auto& d = dialects();
  add(t.symbol, d.action_topic);
  add(t.symbol, d.typed_topic);
  for (auto& templ : d.subscribe_topics)
    add(t.price, templ);
  t.room_trade = "trade:" + sym;
  t.room_book = "orderbook:" + sym;
  return t;
}

// Five price levels each side around `mid`, as [["price","qty"],...].
std::string levels(self_ptr self, double mid, int side) {
  std::uniform_int_distribution<int> qty(1, 900);
  std::string out = "[";
  for (int i = 1; i <= 5; ++i)
    out += fmt::format(R"({}["{:.2f}","{}"])", i == 1 ? "" : ",",
                       mid * (1.0 + side * 0.0004 * i), qty(self->state.rng));
  return out + "]";
}

void publish_trade(self_ptr self, publication_batch& out, int64_t ts) {
  auto& st = self->state;
  auto n = st.settings.symbols.size();
  auto i = st.trade_id % n;
  auto round = st.trade_id / n; // every symbol trades once per round
  auto& sym = st.settings.symbols[i];
  auto& t = st.topics[i];
  std::normal_distribution<double> step(0.0, 0.0005);
  st.prices[i] = std::max(0.01, st.prices[i] * (1.0 + step(st.rng)));
  auto price = st.prices[i];
  std::uniform_int_distribution<int> qty_dist(1, 500);
  std::bernoulli_distribution maker(0.5);
  auto qty = qty_dist(st.rng);
  bool buyer_maker = maker(st.rng);
  auto ms = ts / 1000;
  ++st.trade_id;
  out.push_back(make_pub(
    t.trade,
    fmt::format(R"({{"e":"trade","s":"{}","t":{},"p":"{:.2f}","q":"{}","m":{},"T":{}}})",
                sym, st.trade_id, price, qty, buyer_maker ? "true" : "false", ms),
    ts));
  auto symbol_trade = fmt::format(
    R"({{"symbol":"{}","price":{:.2f},"volume":{},"timestamp":{},"exchange":"DEMO"}})", sym,
    price, qty, ms);
  for (auto& topic : t.symbol)
    out.push_back(make_pub(topic, symbol_trade, ts));
  out.push_back(make_pub(
    t.room_trade,
    fmt::format(R"({{"symbol":"{}","tradeId":{},"price":"{:.2f}","quantity":"{}","side":"{}","timestamp":{}}})",
                sym, st.trade_id, price, qty, buyer_maker ? "sell" : "buy", ms),
    ts));
  auto quote = fmt::format(
    R"({{"symbol":"{}","price":"{:.2f}","bid":"{:.2f}","ask":"{:.2f}","timestamp":{}}})", sym,
    price, price * 0.9998, price * 1.0002, ms);
  for (auto& topic : t.price)
    out.push_back(make_pub(topic, quote, ts));
  if (round % 5 != 0)
    return;
  out.push_back(make_pub(
    t.ticker,
    fmt::format(R"({{"e":"ticker","s":"{}","c":"{:.2f}","E":{}}})", sym, price, ms), ts));
  auto bids = levels(self, price, -1);
  auto asks = levels(self, price, 1);
  out.push_back(make_pub(
    t.depth, fmt::format(R"({{"e":"depth","s":"{}","E":{},"b":{},"a":{}}})", sym, ms, bids, asks),
    ts));
  out.push_back(make_pub(
    t.room_book,
    fmt::format(R"({{"symbol":"{}","bids":{},"asks":{},"timestamp":{}}})", sym, bids, asks, ms),
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
  for (size_t i = 0; i < st.settings.symbols.size(); ++i) {
    st.prices.push_back(start_price(st.settings.symbols[i], i));
    st.topics.push_back(topics_of(st.settings.symbols[i]));
  }
  st.started = std::chrono::steady_clock::now();
  self->send(self, pace_atom_v);
  return {
    [self](pace_atom) {
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
      self->delayed_send(self, tick_interval, pace_atom_v);
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
