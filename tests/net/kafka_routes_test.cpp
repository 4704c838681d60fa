#include "net/kafka_routes.hpp"

#include <gtest/gtest.h>

#include "proto/payload.hpp"

using namespace tickgate;
using namespace tickgate::net;

namespace {

constexpr int64_t now = 1'700'000'000'123'456; // µs

kafka_record_router moonx_router(size_t max_bytes = 1024 * 1024) {
  std::vector<kafka_route> routes;
  for (auto& text : default_kafka_routes()) {
    kafka_route r;
    EXPECT_EQ(kafka_route::parse(text, r), std::nullopt) << text;
    routes.push_back(r);
  }
  return kafka_record_router{routes, max_bytes};
}

struct delivery {
  std::string topic, event, payload;
  bool operator==(const delivery&) const = default;
};

std::vector<delivery> deliveries(const routed_record& r) {
  std::vector<delivery> out;
  for (auto& p : r.publications) {
    EXPECT_EQ(p->kind, payload_kind::json);
    EXPECT_EQ(p->ts_us, now);
    out.push_back({p->topic, p->event, p->payload});
  }
  return out;
}

} // namespace

TEST(kafka_routes, a_price_update_reaches_its_symbol_room_with_data_merged_as_moonx_emits_it) {
  auto router = moonx_router();
  routed_record out;
  auto why = router.route("price.updates",
                          R"({"type":"price_update","symbol":"BTC-USDC",)"
                          R"("data":{"price":45000.5,"change":2.5,"volume":1234567.89},)"
                          R"("timestamp":1700000000000,"metadata":{"source":"x"}})",
                          now, out);
  ASSERT_EQ(why, std::nullopt);
  EXPECT_EQ(deliveries(out),
            (std::vector<delivery>{{"price:BTC-USDC", "price_update",
                                    R"({"symbol":"BTC-USDC","price":45000.5,"change":2.5,)"
                                    R"("volume":1234567.89,"timestamp":1700000000000})"}}));
  EXPECT_TRUE(out.broadcasts.empty());
}

TEST(kafka_routes, an_order_book_update_goes_to_orderbook_symbol) {
  auto router = moonx_router();
  routed_record out;
  ASSERT_EQ(router.route("order.book.updates",
                         R"({"type":"order_book_update","symbol":"ETH-USDC","data":{"bids":[[1,2]],"asks":[]},"timestamp":5})",
                         now, out),
            std::nullopt);
  EXPECT_EQ(deliveries(out),
            (std::vector<delivery>{{"orderbook:ETH-USDC", "order_book_update",
                                    R"({"symbol":"ETH-USDC","bids":[[1,2]],"asks":[],"timestamp":5})"}}));
}

TEST(kafka_routes, a_trade_notification_goes_to_its_symbol_and_a_personal_copy_to_its_user) {
  auto router = moonx_router();
  routed_record out;
  ASSERT_EQ(router.route("trade.notifications",
                         R"({"type":"trade_notification","symbol":"ETH-USDC","userId":"user-123",)"
                         R"("data":{"price":2500,"amount":1.5,"side":"buy"},"timestamp":7})",
                         now, out),
            std::nullopt);
  EXPECT_EQ(deliveries(out),
            (std::vector<delivery>{
              {"trade:ETH-USDC", "trade_notification",
               R"({"symbol":"ETH-USDC","price":2500,"amount":1.5,"side":"buy","timestamp":7})"},
              {"user:user-123", "trade_notification",
               R"({"symbol":"ETH-USDC","price":2500,"amount":1.5,"side":"buy","timestamp":7,"personal":true})"}}));
}

TEST(kafka_routes, a_trade_notification_without_user_has_no_personal_copy) {
  auto router = moonx_router();
  routed_record out;
  ASSERT_EQ(router.route("trade.notifications",
                         R"({"type":"trade_notification","symbol":"ETH-USDC","data":{"side":"sell"},"timestamp":7})",
                         now, out),
            std::nullopt);
  ASSERT_EQ(out.publications.size(), 1u);
  EXPECT_EQ(out.publications[0]->topic, "trade:ETH-USDC");
}

TEST(kafka_routes, a_portfolio_update_goes_to_its_user_and_numbers_fill_templates) {
  auto router = moonx_router();
  routed_record out;
  ASSERT_EQ(router.route("portfolio.updates",
                         R"({"type":"portfolio_update","userId":42,"data":{"totalValue":50000,"pnl":1250.5,"positions":[]},"timestamp":9})",
                         now, out),
            std::nullopt);
  EXPECT_EQ(deliveries(out),
            (std::vector<delivery>{{"user:42", "portfolio_update",
                                    R"({"totalValue":50000,"pnl":1250.5,"positions":[],"timestamp":9})"}}));
}

TEST(kafka_routes, a_system_alert_is_a_broadcast_to_every_client) {
  auto router = moonx_router();
  routed_record out;
  ASSERT_EQ(router.route("system.alerts",
                         R"({"type":"system_alert","data":{"level":"info","message":"PEPE listed"},"timestamp":11})",
                         now, out),
            std::nullopt);
  EXPECT_TRUE(out.publications.empty());
  ASSERT_EQ(out.broadcasts.size(), 1u);
  EXPECT_EQ(out.broadcasts[0].first, R"({"level":"info","message":"PEPE listed","timestamp":11})");
  EXPECT_EQ(out.broadcasts[0].second, "system_alert");
}

TEST(kafka_routes, a_record_without_timestamp_is_stamped_in_milliseconds_and_the_records_own_fields_win) {
  auto router = moonx_router();
  routed_record out;
  ASSERT_EQ(router.route("price.updates",
                         R"({"type":"price_update","symbol":"A","data":{"symbol":"B","timestamp":1,"price":1}})",
                         now, out),
            std::nullopt);
  EXPECT_EQ(out.publications.at(0)->payload, R"({"symbol":"A","price":1,"timestamp":1700000000123})");
}

TEST(kafka_routes, data_that_is_no_object_is_kept_under_data) {
  auto router = moonx_router();
  routed_record out;
  ASSERT_EQ(router.route("x", R"({"type":"price_update","symbol":"A","data":[1,2],"timestamp":3})", now, out),
            std::nullopt);
  EXPECT_EQ(out.publications.at(0)->payload, R"({"symbol":"A","data":[1,2],"timestamp":3})");
}

TEST(kafka_routes, every_kind_of_json_value_in_data_comes_out_compact_and_equal) {
  auto router = moonx_router();
  routed_record out;
  ASSERT_EQ(router.route("x",
                         "{ \"type\" : \"price_update\", \"symbol\" : 42 ,\n"
                         "  \"data\" : { \"bids\" : [ [ 1.25 , 3 ] , [ ] ], \"ok\" : true, \"off\" : false,"
                         " \"none\" : null, \"neg\" : -7, \"big\" : 18446744073709551615,"
                         " \"exp\" : 1e21, \"tiny\" : 0.1, \"text\" : \"a\\\"b\\\\c\\u0001\u00e9\","
                         " \"nested\" : { \"k\" : { } } } , \"timestamp\" : 5 }",
                         now, out),
            std::nullopt);
  ASSERT_EQ(out.publications.size(), 1u);
  EXPECT_EQ(out.publications[0]->topic, "price:42");
  EXPECT_EQ(out.publications[0]->payload,
            R"({"symbol":42,"bids":[[1.25,3],[]],"ok":true,"off":false,"none":null,"neg":-7,)"
            R"("big":18446744073709551615,"exp":1e+21,"tiny":0.1,"text":"a\"b\\c\u0001é",)"
            R"("nested":{"k":{}},"timestamp":5})");
}

TEST(kafka_routes, bad_records_are_skipped_by_reason) {
  auto router = moonx_router(200);
  auto skip = [&](std::string_view value) {
    routed_record out;
    auto why = router.route("price.updates", value, now, out);
    EXPECT_TRUE(out.publications.empty() && out.broadcasts.empty()) << value;
    return why;
  };
  EXPECT_EQ(skip("not json"), skip_reason::not_json);
  EXPECT_EQ(skip(R"({"type":"price_update")"), skip_reason::not_json);
  EXPECT_EQ(skip(R"(["price_update"])"), skip_reason::not_json);
  EXPECT_EQ(skip(R"({"type":"candle","symbol":"A","data":{}})"), skip_reason::no_route);
  EXPECT_EQ(skip(R"({"symbol":"A","data":{}})"), skip_reason::no_route);
  EXPECT_EQ(skip(R"({"type":"price_update","data":{"price":1}})"), skip_reason::missing_field);
  EXPECT_EQ(skip(R"({"type":"price_update","symbol":"A"})"), skip_reason::missing_field);
  EXPECT_EQ(skip(R"({"type":"portfolio_update","data":{}})"), skip_reason::missing_field);
  EXPECT_EQ(skip(R"({"type":"price_update","symbol":"has space","data":{}})"), skip_reason::bad_topic);
  EXPECT_EQ(skip(R"({"type":"price_update","symbol":")" + std::string(200, 'A') + R"(","data":{}})"),
            skip_reason::oversize);
}

TEST(kafka_routes, routes_match_kafka_topic_and_type_first_match_wins) {
  std::vector<kafka_route> routes(3);
  ASSERT_EQ(kafka_route::parse("candles/closed -> candle:{symbol}:closed", routes[0]), std::nullopt);
  ASSERT_EQ(kafka_route::parse("candles -> candle:{symbol} as candle", routes[1]), std::nullopt);
  ASSERT_EQ(kafka_route::parse("*/news -> news, * as headline", routes[2]), std::nullopt);
  kafka_record_router router{routes, 4096};
  routed_record out;
  ASSERT_EQ(router.route("candles", R"({"type":"closed","symbol":"A","data":{}})", now, out), std::nullopt);
  ASSERT_EQ(router.route("candles", R"({"type":"open","symbol":"A","data":{}})", now, out), std::nullopt);
  ASSERT_EQ(router.route("other", R"({"type":"news","data":{"t":1}})", now, out), std::nullopt);
  routed_record none;
  EXPECT_EQ(router.route("other", R"({"type":"closed","symbol":"A","data":{}})", now, none),
            skip_reason::no_route);
  ASSERT_EQ(out.publications.size(), 3u);
  EXPECT_EQ(out.publications[0]->topic, "candle:A:closed");
  EXPECT_EQ(out.publications[0]->event, "closed"); // no `as`: the record's type
  EXPECT_EQ(out.publications[1]->topic, "candle:A");
  EXPECT_EQ(out.publications[1]->event, "candle");
  EXPECT_EQ(out.publications[2]->topic, "news");
  EXPECT_EQ(out.broadcasts.size(), 1u);
  EXPECT_EQ(out.broadcasts[0].second, "headline");
}

TEST(kafka_routes, malformed_routes_are_refused_with_a_reason) {
  kafka_route r;
  EXPECT_NE(kafka_route::parse("price.updates price:{symbol}", r), std::nullopt);
  EXPECT_NE(kafka_route::parse(" -> price:{symbol}", r), std::nullopt);
  EXPECT_NE(kafka_route::parse("a ->", r), std::nullopt);
  EXPECT_NE(kafka_route::parse("a -> price:{sym}", r), std::nullopt);
  EXPECT_NE(kafka_route::parse("a -> price {symbol}", r), std::nullopt);
  EXPECT_NE(kafka_route::parse("a -> p as bad event", r), std::nullopt);
  EXPECT_EQ(kafka_route::parse("a/b -> user:{userId} personal, * as e", r), std::nullopt);
  EXPECT_EQ(r.kafka_topic, "a");
  EXPECT_EQ(r.type, "b");
  ASSERT_EQ(r.targets.size(), 2u);
  EXPECT_TRUE(r.targets[0].personal);
  EXPECT_EQ(r.targets[1].topic, "*");
}
