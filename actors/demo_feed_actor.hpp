#pragma once

#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/behavior.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

namespace tickgate {

struct demo_feed_settings {
  std::vector<std::string> symbols{"AAPL", "MSFT", "GOOGL", "TSLA", "BTC-USD"};
  double rate = 20.0; // trades per second over all symbols; every 5th round of trades also updates each symbol's ticker
};

/// Publishes a synthetic market for each symbol at a steady rate, on the
/// topics every dialect subscribes to by default, so whichever client a
/// newcomer tries on a fresh node shows data:
///   per trade:        trade@SYM (native, stream), the action/typed symbol topic
///                     (channel:trade:SYM), trade:SYM and price:SYM (Socket.IO)
///   every 5th round:  ticker@SYM, depth@SYM (stream), orderbook:SYM (Socket.IO)
/// The action, typed and Socket.IO topics come from the dialect settings
/// (`dialects.*-topic`), so a node configured otherwise is fed where its
/// clients look.
struct demo_feed_state {
  // One symbol's topic names, built once.
  struct symbol_topics {
    std::string trade, ticker, depth;     // native / stream protocol
    std::vector<std::string> symbol;      // action and typed envelope (deduplicated)
    std::vector<std::string> price;       // Socket.IO "subscribe {symbols}"
    std::string room_trade, room_book;    // Socket.IO rooms trade:SYM, orderbook:SYM
  };

  caf::actor bus;
  demo_feed_settings settings;
  std::vector<symbol_topics> topics;      // parallel to settings.symbols
  std::vector<double> prices;
  std::mt19937_64 rng{42};
  uint64_t trade_id = 0;
  std::chrono::steady_clock::time_point started;
  uint64_t sent = 0; // trades published since `started`

  static inline const char* name = "demo_feed";
};

caf::behavior demo_feed_actor(caf::stateful_actor<demo_feed_state>* self,
                              caf::actor bus, demo_feed_settings settings);

} // namespace tickgate
