// The demo feed (--demo) against the real binary: a client of every dialect,
// subscribing the way its own documentation shows, receives demo data.

#include <string>

#include <gtest/gtest.h>

#include "support/node_process.hpp"
#include "support/ws_client.hpp"

using namespace std::chrono_literals;
using namespace tickgate::test;

namespace {

// A node whose demo feed trades every symbol many times per second.
std::vector<std::string> demo_args() {
  return {"--demo", "--demo-rate=200"};
}

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.rfind(prefix, 0) == 0;
}

// The first message of `c` starting with `prefix`, or "<nothing>".
std::string first_starting_with(ws_client& c, const std::string& prefix) {
  auto m = c.read_until([&](const ws_message& m) { return starts_with(m.data, prefix); }, 5000ms);
  return m ? m->data : "<nothing>";
}

} // namespace

TEST(demo_feed, a_native_client_receives_trades_and_tickers) {
  node_process node{demo_args()};
  ws_client c{node.port(), "/v1"};
  c.send_text(R"({"op":"subscribe","id":1,"topics":["trade@AAPL","ticker@AAPL"]})");
  auto trade = first_starting_with(c, R"({"type":"event","topic":"trade@AAPL")");
  EXPECT_NE(trade.find(R"("data":{"e":"trade","s":"AAPL")"), std::string::npos) << trade;
  auto ticker = first_starting_with(c, R"({"type":"event","topic":"ticker@AAPL")");
  EXPECT_NE(ticker.find(R"("data":{"e":"ticker","s":"AAPL")"), std::string::npos) << ticker;
}

TEST(demo_feed, a_stream_protocol_client_receives_trades_and_depth) {
  node_process node{demo_args()};
  ws_client c{node.port(), "/stream"};
  c.send_text(R"({"method":"SUBSCRIBE","params":["trade@MSFT","depth@MSFT"],"id":1})");
  auto trade = first_starting_with(c, R"({"stream":"trade@MSFT","data":{"e":"trade","s":"MSFT")");
  EXPECT_NE(trade, "<nothing>");
  auto depth = first_starting_with(c, R"({"stream":"depth@MSFT","data":{"e":"depth","s":"MSFT")");
  EXPECT_NE(depth.find(R"("b":[[")"), std::string::npos) << depth;
  EXPECT_NE(depth.find(R"("a":[[")"), std::string::npos) << depth;
}

TEST(demo_feed, an_action_protocol_client_receives_trades_for_its_symbols) {
  node_process node{demo_args()};
  ws_client c{node.port(), "/"};
  c.send_text(R"({"action":"subscribe","symbols":["AAPL"]})");
  auto trade = first_starting_with(c, R"({"type":"trade","data":{"symbol":"AAPL","price":)");
  EXPECT_NE(trade.find(R"("exchange":"DEMO")"), std::string::npos) << trade;
}

TEST(demo_feed, a_typed_envelope_client_receives_market_data_for_its_symbols) {
  node_process node{demo_args()};
  ws_client c{node.port(), "/ws"};
  c.send_text(R"({"type":"subscribe","data":{"symbols":["TSLA"]},"id":"r1"})");
  auto data = first_starting_with(c, R"({"type":"market_data","data":{"symbol":"TSLA","price":)");
  EXPECT_NE(data, "<nothing>");
}

TEST(demo_feed, a_socket_io_client_receives_prices_trades_and_books) {
  node_process node{demo_args()};
  ws_client c{node.port(), "/socket.io/?EIO=4&transport=websocket"};
  ASSERT_NE(first_starting_with(c, "0{"), "<nothing>"); // Engine.IO open
  c.send_text("40");
  ASSERT_NE(first_starting_with(c, "40{"), "<nothing>");
  c.send_text(R"(421["join_room",{"room":"price:BTC-USD"}])");
  auto price = first_starting_with(c, R"(42["price_update",{"symbol":"BTC-USD","price":")");
  EXPECT_NE(price.find(R"("bid":")"), std::string::npos) << price;
  c.send_text(R"(422["join_room",{"room":"orderbook:BTC-USD"}])");
  auto book = first_starting_with(c, R"(42["order_book_update",{"symbol":"BTC-USD","bids":[[")");
  EXPECT_NE(book, "<nothing>");
  c.send_text(R"(423["join_room",{"room":"trade:BTC-USD"}])");
  auto trade = first_starting_with(c, R"(42["trade_notification",{"symbol":"BTC-USD","tradeId":)");
  EXPECT_NE(trade, "<nothing>");

  // The /prices namespace's subscribe {symbols} uses the same price topics.
  c.send_text("40/prices,");
  ASSERT_NE(first_starting_with(c, "40/prices,{"), "<nothing>");
  c.send_text(R"(42/prices,["subscribe",{"symbols":["AAPL"]}])");
  auto update = first_starting_with(c, R"(42/prices,["price.update",{"symbol":"AAPL","price":")");
  EXPECT_NE(update, "<nothing>");
}
