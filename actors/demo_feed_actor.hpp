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

/// Publishes synthetic trades (`trade@SYM`) and tickers (`ticker@SYM`) to the
/// bus at a steady rate, so a fresh node has something to show.
struct demo_feed_state {
  caf::actor bus;
  demo_feed_settings settings;
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
