#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proto/wire_format.hpp"

namespace tickgate {

/// How the seed dialects map onto topics and name their events. Set once at
/// start-up (configs/tickgate.ini [dialects]); read by decoders and encoders.
struct dialect_settings {
  // Action protocol: symbol AAPL <-> topic "channel:trade:AAPL" (the Redis
  // channel of that deployment, so the identity channel mapping fits).
  std::string action_topic = "channel:trade:{symbol}";
  std::string action_event_type = "trade";
  size_t action_max_symbols = 5;

  // Typed envelope: the same symbol topics as the action protocol.
  std::string typed_topic = "channel:trade:{symbol}";
  std::string typed_event_type = "market_data";

  // Socket.IO.
  std::vector<std::string> namespaces{"/", "/prices", "/market", "/user", "/admin"};
  std::vector<std::string> subscribe_topics{"price:{symbol}"}; // "subscribe" {symbols}
  std::vector<std::string> room_prefixes{"price:",  "orderbook:", "trade:",  "user:",
                                         "prices:", "market:",    "orders:", "positions:",
                                         "wallet:"};
  // topic prefix = event name, for topics joined as rooms / by "subscribe"
  // (a publication's own event name wins over both).
  std::vector<std::string> room_events{
    "price:=price_update",         "orderbook:=order_book_update", "trade:=trade_notification",
    "user:=user_update",           "prices:=price.update",         "market:stats:=market.stats",
    "market:depth:=market.depth",  "market:trades:=market.trades", "market:ticker:=market.ticker",
    "orders:=order.update",        "positions:=position.update",   "wallet:=wallet.update"};
  std::vector<std::string> subscribe_events{
    "price:=price.update",          "orderbook:=market.depth",     "trade:=trade.executed",
    "prices:=price.update",         "market:stats:=market.stats",  "market:depth:=market.depth",
    "market:trades:=market.trades", "market:ticker:=market.ticker"};

  // The namespace system's /market: "subscribe" {symbols, channels} joins
  // one room per symbol and channel (channels among market_channels; all
  // of them when the request names none). Empty namespace: none does.
  std::string market_namespace = "/market";
  std::string market_topic = "market:{channel}:{symbol}";
  std::vector<std::string> market_channels{"stats", "depth", "trades", "ticker"};

  // The namespace system's /user: a client that proved its identity joins
  // these rooms ({id}: its user) when it connects to the namespace, private
  // to it (they join auth.private-topics). Empty namespace: none does.
  std::string user_namespace = "/user";
  std::vector<std::string> user_rooms{"user:{id}", "orders:{id}", "positions:{id}",
                                      "wallet:{id}"};
  std::string default_event = "update";
  // Every admitted namespace also follows its own topic (emitter::namespace_topic),
  // so namespace-wide emits reach it; on with the Socket.IO emitter feed.
  bool socketio_namespace_topics = false;

  // Retained events a subscribe of a seed dialect starts with (the `last`
  // option native clients send), for deployments whose gateway sent the
  // current value on subscribe; 0: live events only. A Socket.IO request
  // that carries its own since / last / snapshot is not changed.
  uint32_t action_last = 0;
  uint32_t stream_last = 0;
  uint32_t typed_last = 0;
  uint32_t socketio_last = 0;

  /// The configured start for `d` (0 for native: its clients ask themselves).
  uint32_t initial_last(dialect d) const;

  /// `template` with {symbol} replaced, or nullopt if the result is no valid topic.
  static std::optional<std::string> expand(std::string_view templ,
                                           std::string_view symbol);

  /// market_topic for `channel` and `symbol`, or nullopt if no valid topic.
  std::optional<std::string> market_room(std::string_view channel,
                                         std::string_view symbol) const;

  /// user_rooms for user `id`, each a valid topic (others left out).
  std::vector<std::string> rooms_of_user(std::string_view id) const;

  /// Socket.IO event name for a delivery of `topic` in `style`.
  std::string_view socketio_event(std::string_view topic, uint8_t style) const;

  /// Index of namespace `ns`, or nullopt.
  std::optional<uint8_t> namespace_index(std::string_view ns) const;
};

/// The node's dialect settings (defaults until configured).
dialect_settings& dialects();

} // namespace tickgate
