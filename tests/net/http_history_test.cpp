// The polling endpoints' answers for every payload kind (HTTP publishes are
// JSON only; text and binary payloads come from Redis publishers).

#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "net/http_history.hpp"

using namespace tickgate;
using namespace tickgate::net;

namespace {

retained_event event(uint64_t seq, std::string payload, payload_kind kind, bool snapshot = false) {
  auto ts = 1'700'000'000'000'000 + static_cast<int64_t>(seq);
  return {seq, std::make_shared<publication>(
                 publication{std::string{"t"}, std::move(payload), kind, ts, snapshot})};
}

history_reply reply(std::string topic, std::vector<retained_event> events) {
  history_reply r;
  r.topic = std::move(topic);
  r.epoch = "tg-1";
  r.seq = events.empty() ? 0 : events.back().seq;
  r.events = std::move(events);
  return r;
}

} // namespace

TEST(http_history_answer, snapshot_embeds_json_quotes_text_and_base64s_binary_in_data_b64) {
  history_request req;
  req.endpoint = history_endpoint::snapshot;
  req.names = {"j", "t", "b", "none"};
  std::vector<history_reply> replies{
    reply("j", {event(3, R"({"p":1})", payload_kind::json, true)}),
    reply("t", {event(4, "hi \"there\"", payload_kind::text)}),
    reply("b", {event(5, std::string{"\x00\xff", 2}, payload_kind::binary)}),
    reply("none", {}),
  };
  EXPECT_EQ(history_answer(req, replies),
            R"({"topics":{)"
            R"("j":{"epoch":"tg-1","seq":3,"ts":1700000000000003,"snapshot":true,"data":{"p":1}},)"
            R"("t":{"epoch":"tg-1","seq":4,"ts":1700000000000004,"snapshot":false,"data":"hi \"there\""},)"
            R"("b":{"epoch":"tg-1","seq":5,"ts":1700000000000005,"snapshot":false,"data_b64":"AP8="},)"
            R"("none":null}})");
}

TEST(http_history_answer, history_lists_events_oldest_first_with_the_topics_position) {
  history_request req;
  req.endpoint = history_endpoint::history;
  req.names = {"t"};
  auto r = reply("t", {event(6, "1", payload_kind::json), event(7, "x", payload_kind::text)});
  r.seq = 9;
  r.recovered = true;
  EXPECT_EQ(history_answer(req, {r}),
            R"({"topic":"t","epoch":"tg-1","seq":9,"recovered":true,"events":[)"
            R"({"seq":6,"ts":1700000000000006,"snapshot":false,"data":1},)"
            R"({"seq":7,"ts":1700000000000007,"snapshot":false,"data":"x"}]})");
  // A topic held back by its restart backoff has no epoch to tell.
  history_reply held;
  held.topic = "t";
  EXPECT_EQ(history_answer(req, {held}),
            R"({"topic":"t","epoch":null,"seq":0,"recovered":false,"events":[]})");
}

TEST(http_history_answer, market_snapshot_maps_each_symbol_to_its_latest_payload) {
  history_request req;
  req.endpoint = history_endpoint::market;
  req.names = {"AAPL", "BIN", "MSFT"};
  std::vector<history_reply> replies{
    reply("channel:trade:AAPL", {event(1, R"({"price":1})", payload_kind::json),
                                 event(2, R"({"price":2})", payload_kind::json)}),
    reply("channel:trade:BIN", {event(1, "\x01", payload_kind::binary)}),
    reply("channel:trade:MSFT", {}),
  };
  auto out = history_answer(req, replies);
  auto ts = out.rfind(R"(,"timestamp":)");
  ASSERT_NE(ts, std::string::npos) << out;
  EXPECT_EQ(out.substr(0, ts),
            R"({"type":"market_data","data":{"AAPL":{"price":2},"BIN":"AQ==","MSFT":null})");
}
