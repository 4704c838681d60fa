// Socket.IO subscribe / join_room with the subscribe options, and the acks
// that answer them, as a socket.io-client would send and receive them.
#include "proto/socketio_codec.hpp"

#include <gtest/gtest.h>

#include "proto/dialect_settings.hpp"

using namespace tickgate;

namespace {

// A decoder with namespace "/" connected.
struct connected_decoder {
  socketio_decoder decoder{decoder_options{"sid1", {}, 25000, 20000, 65536}};

  connected_decoder() { decoder.decode("40", false); }

  decoded_frame event(std::string_view packet) {
    auto out = decoder.decode(packet, false);
    EXPECT_EQ(out.frames.size(), 1u) << packet;
    return out.frames.empty() ? decoded_frame{client_error{}} : out.frames.front();
  }

  client_command command(std::string_view packet) {
    auto frame = event(packet);
    if (auto* err = std::get_if<client_error>(&frame)) {
      ADD_FAILURE() << packet << ": " << err->message;
      return {};
    }
    return std::get<client_command>(frame);
  }

  client_error error(std::string_view packet) {
    auto frame = event(packet);
    EXPECT_TRUE(std::holds_alternative<client_error>(frame)) << packet;
    auto* err = std::get_if<client_error>(&frame);
    return err ? *err : client_error{};
  }
};

using entry = std::pair<std::string, stream_position>;

} // namespace

TEST(socketio_codec, join_room_reads_the_options_beside_the_room) {
  connected_decoder c;
  auto cmd = c.command(
    R"(421["join_room",{"room":"price:BTC","since":{"price:BTC":{"epoch":"E","seq":60}},"throttle_ms":500}])");
  EXPECT_EQ(cmd.op, client_op::subscribe);
  EXPECT_EQ(cmd.topics, std::vector<std::string>{"price:BTC"});
  EXPECT_EQ(cmd.options.since, (std::vector<entry>{{"price:BTC", {"E", 60}}}));
  EXPECT_EQ(cmd.options.throttle_ms, 500u);
  auto last = c.command(R"(422["join_room",{"room":"orderbook:ETH","snapshot":true}])");
  EXPECT_TRUE(last.options.snapshot);
  // The room as a bare string still works, without options.
  EXPECT_TRUE(c.command(R"(423["join_room","trade:X"])").options.empty());
}

TEST(socketio_codec, subscribe_maps_since_keys_from_symbols_to_topics) {
  connected_decoder c;
  auto cmd = c.command(
    R"(421["subscribe",{"symbols":["BTC-USD","ETH-USD"],"since":{"ETH-USD":{"epoch":"E","seq":3}},"last":5}])");
  EXPECT_EQ(cmd.topics, (std::vector<std::string>{"price:BTC-USD", "price:ETH-USD"}));
  EXPECT_EQ(cmd.options.since, (std::vector<entry>{{"price:ETH-USD", {"E", 3}}}));
  EXPECT_EQ(cmd.options.last, 5u);
  // A canonical topic is accepted as a key too.
  auto by_topic = c.command(
    R"(422["subscribe",{"symbols":["BTC-USD"],"since":{"price:BTC-USD":{"epoch":"E","seq":9}}}])");
  EXPECT_EQ(by_topic.options.since, (std::vector<entry>{{"price:BTC-USD", {"E", 9}}}));
}

TEST(socketio_codec, refuses_bad_options_in_the_ack) {
  connected_decoder c;
  auto err = c.error(R"(427["subscribe",{"symbols":["A"],"since":{"B":{"epoch":"E","seq":1}}}])");
  EXPECT_EQ(err.code, error_code::bad_request);
  EXPECT_EQ(err.message, "'since' names 'B', which is not one of the request's topics");
  EXPECT_EQ(err.ctx.ack_id, 7u);
  EXPECT_EQ(encode_error_frame(reply_to{err.format, err.id, err.ctx}, err.code, err.message),
            R"(437[{"success":false,"error":"'since' names 'B', which is not one of the )"
            R"(request's topics","code":"bad_request"}])");
  EXPECT_EQ(c.error(R"(42["join_room",{"room":"price:A","last":1,"snapshot":true}])").message,
            "last and snapshot exclude each other");
  EXPECT_EQ(c.error(R"(42["join_room",{"room":"price:A","throttle_ms":5}])").message,
            "'throttle_ms' must be an integer from 10 to 60000");
  EXPECT_EQ(c.error(R"(42["leave_room",{"room":"price:A","last":1}])").message,
            "'last' is only valid with subscribe or join_room");
  EXPECT_EQ(c.error(R"(42["unsubscribe",{"symbols":["A"],"since":{}}])").message,
            "'since' is only valid with subscribe or join_room");
}

TEST(socketio_codec, subscribe_acks_carry_positions_and_recovered) {
  std::vector<topic_position> positions{{"price:BTC", "E", 75, true}};
  reply_to room{wire_format{dialect::socketio}, std::nullopt, {}};
  room.ctx.ack_id = 1;
  room.ctx.verb = "join_room";
  EXPECT_EQ(encode_ack_frames(room, client_op::subscribe, std::vector<std::string>{"price:BTC"},
                              {}, positions),
            std::vector<std::string>{
              R"(431[{"success":true,"room":"price:BTC","positions":{"price:BTC":{"epoch":"E","seq":75}},"recovered":{"price:BTC":true}}])"});
  reply_to sub{wire_format{dialect::socketio, false, 1, 1}, std::nullopt, {}};
  sub.ctx.ack_id = 2;
  sub.ctx.verb = "subscribe";
  positions = {{"BTC", "E", 4, std::nullopt}};
  auto frames = encode_ack_frames(sub, client_op::subscribe, std::vector<std::string>{"BTC"}, {},
                                  positions);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0],
            R"(43/prices,2[{"success":true,"symbols":["BTC"],"positions":{"BTC":{"epoch":"E","seq":4}}}])");
  EXPECT_EQ(frames[1], R"(42/prices,["subscription.confirmed",{"action":"subscribe","symbols":["BTC"]}])");
  // No positions: the shape existing clients know.
  EXPECT_EQ(encode_ack_frames(room, client_op::subscribe, std::vector<std::string>{"price:BTC"}, {}),
            std::vector<std::string>{R"(431[{"success":true,"room":"price:BTC"}])"});
}

TEST(socketio_codec, a_named_publication_is_emitted_under_its_own_name) {
  event_fields ev{"price:BTC", 3, "E", 5, R"({"p":1})", payload_kind::json, false, "price.trade"};
  EXPECT_EQ(encode_event_frame(wire_format{dialect::socketio}, ev),
            R"(42["price.trade",{"p":1}])");
  ev.event = R"(q"uote)";
  EXPECT_EQ(encode_event_frame(wire_format{dialect::socketio}, ev),
            R"(42["q\"uote",{"p":1}])");
}

TEST(socketio_codec, snapshot_events_keep_the_payload_as_the_argument) {
  event_fields ev{"price:BTC", 3, "E", 5, R"({"p":1})", payload_kind::json, true};
  EXPECT_EQ(encode_event_frame(wire_format{dialect::socketio}, ev),
            R"(42["price_update",{"p":1}])");
}

TEST(socketio_codec, market_subscribe_joins_one_room_per_symbol_and_channel) {
  connected_decoder c;
  c.decoder.decode("40/market,", false);
  auto cmd = c.command(
    R"(42/market,4["subscribe",{"symbols":["BTC-USD","ETH-USD"],"channels":["stats","trades"]}])");
  EXPECT_EQ(cmd.op, client_op::subscribe);
  EXPECT_EQ(cmd.topics, (std::vector<std::string>{"market:stats:BTC-USD", "market:trades:BTC-USD",
                                                  "market:stats:ETH-USD", "market:trades:ETH-USD"}));
  EXPECT_EQ(cmd.names, cmd.topics); // the ack names the rooms
  // The ack and the confirmation repeat the request's symbols and channels.
  reply_to to{cmd.format, cmd.id, cmd.ctx};
  std::vector<topic_position> positions{{"market:stats:BTC-USD", "E", 2, std::nullopt}};
  auto frames = encode_ack_frames(to, client_op::subscribe,
                                  std::vector<std::string>{"market:stats:BTC-USD"}, {}, positions);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0], R"(43/market,4[{"success":true,"symbols":["BTC-USD","ETH-USD"],)"
                       R"("channels":["stats","trades"],"rooms":["market:stats:BTC-USD"],)"
                       R"("positions":{"market:stats:BTC-USD":{"epoch":"E","seq":2}}}])");
  EXPECT_EQ(frames[1], R"(42/market,["subscription.confirmed",{"action":"subscribe",)"
                       R"("symbols":["BTC-USD","ETH-USD"],"channels":["stats","trades"],)"
                       R"("rooms":["market:stats:BTC-USD"]}])");
  // Without channels: all of them; one channel may be a string.
  EXPECT_EQ(c.command(R"(42/market,["subscribe",{"symbols":["SOL"]}])").topics,
            (std::vector<std::string>{"market:stats:SOL", "market:depth:SOL", "market:trades:SOL",
                                      "market:ticker:SOL"}));
  EXPECT_EQ(c.command(R"(42/market,["unsubscribe",{"symbols":"SOL","channels":"depth"}])").topics,
            std::vector<std::string>{"market:depth:SOL"});
  // `since` is keyed by room.
  auto since = c.command(
    R"(42/market,["subscribe",{"symbols":["SOL"],"channels":["ticker"],"since":{"market:ticker:SOL":{"epoch":"E","seq":1}}}])");
  EXPECT_EQ(since.options.since, (std::vector<entry>{{"market:ticker:SOL", {"E", 1}}}));
  // Other namespaces keep the symbol topics.
  EXPECT_EQ(c.command(R"(42["subscribe",{"symbols":["SOL"],"channels":["stats"]}])").topics,
            std::vector<std::string>{"price:SOL"});
}

TEST(socketio_codec, market_subscribe_refuses_unknown_or_empty_channels) {
  connected_decoder c;
  c.decoder.decode("40/market,", false);
  auto err = c.error(R"(42/market,1["subscribe",{"symbols":["BTC"],"channels":["candles"]}])");
  EXPECT_EQ(err.code, error_code::bad_request);
  EXPECT_EQ(err.message, "unknown channel candles (expected stats, depth, trades, ticker)");
  EXPECT_EQ(err.ctx.ack_id, 1u);
  EXPECT_EQ(c.error(R"(42/market,["subscribe",{"symbols":["BTC"],"channels":[]}])").message,
            "channels must name at least one channel (expected stats, depth, trades, ticker)");
  EXPECT_EQ(c.error(R"(42/market,["subscribe",{"symbols":["BTC"],"channels":[1]}])").message,
            "channels must be strings (expected stats, depth, trades, ticker)");
  auto bad = c.error(R"(42/market,["subscribe",{"symbols":["a b"]}])");
  EXPECT_EQ(bad.code, error_code::invalid_topic);
}

TEST(socketio_codec, the_namespace_systems_rooms_are_joinable_and_named_by_prefix) {
  connected_decoder c;
  for (auto room : {"prices:BTC", "market:depth:BTC", "orders:42", "positions:42", "wallet:42"})
    EXPECT_EQ(c.command(R"(42["join_room",{"room":")" + std::string{room} + R"("}])").topics,
              std::vector<std::string>{room});
  auto name = [](std::string_view topic, uint8_t style) {
    return std::string{dialects().socketio_event(topic, style)};
  };
  EXPECT_EQ(name("prices:BTC", 0), "price.update");
  EXPECT_EQ(name("market:stats:BTC", 1), "market.stats");
  EXPECT_EQ(name("market:ticker:BTC", 0), "market.ticker");
  EXPECT_EQ(name("orders:42", 0), "order.update");
  EXPECT_EQ(name("positions:42", 0), "position.update");
  EXPECT_EQ(name("wallet:42", 0), "wallet.update");
}

TEST(socketio_codec, leaving_a_namespace_asks_the_actor_to_leave_all_its_rooms) {
  connected_decoder c;
  auto out = c.decoder.decode("41", false);
  ASSERT_EQ(out.frames.size(), 1u);
  auto& cmd = std::get<client_command>(out.frames.front());
  EXPECT_EQ(cmd.op, client_op::unsubscribe);
  EXPECT_EQ(cmd.ctx.verb, "disconnect");
  EXPECT_TRUE(cmd.topics.empty());
  EXPECT_TRUE(c.decoder.decode("41", false).frames.empty()); // no longer connected
}

TEST(socketio_codec, connection_authenticated_answers_the_rooms_joined_on_connect) {
  reply_to to{wire_format{dialect::socketio, false, 3, 0}, std::nullopt, {}};
  to.ctx.verb = "authenticated";
  std::vector<std::string> rooms{"user:42", "orders:42"};
  to.ctx.echo = socketio::authenticated_body("42", "trader", rooms);
  EXPECT_EQ(encode_ack_frames(to, client_op::subscribe, rooms, {}),
            std::vector<std::string>{R"(42/user,["connection.authenticated",)"
                                     R"({"userId":"42","role":"trader","rooms":["user:42","orders:42"]}])"});
  EXPECT_EQ(socketio::authenticated_body("7", "", {}), R"({"userId":"7","rooms":[]})");
}
