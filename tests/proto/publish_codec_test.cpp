#include "proto/publish_codec.hpp"

#include <gtest/gtest.h>

using namespace tickgate;

namespace {

std::vector<publish_item> items(std::string_view body) {
  auto r = decode_publish_body(body);
  if (auto* e = std::get_if<publish_error>(&r)) {
    ADD_FAILURE() << e->message;
    return {};
  }
  return std::get<std::vector<publish_item>>(r);
}

std::string error(std::string_view body) {
  auto r = decode_publish_body(body);
  EXPECT_TRUE(std::holds_alternative<publish_error>(r)) << body;
  auto* e = std::get_if<publish_error>(&r);
  return e ? e->message : "";
}

} // namespace

TEST(publish_codec, cuts_data_out_byte_for_byte) {
  auto got = items(R"({"topic":"trade@AAPL","data":{ "p" : "189.20",  "q":5 }})");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].topic, "trade@AAPL");
  EXPECT_EQ(got[0].payload, R"({ "p" : "189.20",  "q":5 })");
}

TEST(publish_codec, accepts_scalar_and_array_data) {
  auto got = items(R"([{"data":[1,2],"topic":"a"},{"topic":"b","data":"x"},{"topic":"c","data":3.5 }])");
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].payload, "[1,2]");
  EXPECT_EQ(got[1].payload, "\"x\"");
  EXPECT_EQ(got[2].payload, "3.5");
}

TEST(publish_codec, rejects_invalid_json_even_inside_data) {
  EXPECT_EQ(error(R"({"topic":"a","data":{"x":tru}})"), "body is not valid JSON");
  EXPECT_EQ(error("not json"), "body is not valid JSON");
}

TEST(publish_codec, names_the_failing_event) {
  EXPECT_EQ(error(R"({"data":1})"), "event 0: missing 'topic'");
  EXPECT_EQ(error(R"({"topic":"a"})"), "event 0: missing 'data'");
  EXPECT_EQ(error(R"([{"topic":"a","data":1},{"topic":7,"data":1}])"),
            "event 1: 'topic' must be a string");
  EXPECT_NE(error(R"({"topic":"bad topic","data":1})").find("invalid topic"),
            std::string::npos);
  EXPECT_EQ(error(R"([1])"), "event 0: must be an object");
  EXPECT_EQ(error("[]"), "the batch is empty");
  EXPECT_EQ(error("3"), "body must be an event object or an array of them");
}

TEST(publish_codec, reads_the_snapshot_mark) {
  auto got = items(R"([{"topic":"depth@A","data":{"b":[]},"snapshot":true},)"
                   R"({"snapshot":false,"topic":"depth@A","data":1},{"topic":"depth@A","data":2}])");
  ASSERT_EQ(got.size(), 3u);
  EXPECT_TRUE(got[0].snapshot);
  EXPECT_EQ(got[0].payload, R"({"b":[]})");
  EXPECT_FALSE(got[1].snapshot);
  EXPECT_FALSE(got[2].snapshot);
}

TEST(publish_codec, reads_the_event_name) {
  auto got = items(R"([{"topic":"orders:7","event":"order.filled","data":{}},{"topic":"orders:7","data":1}])");
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].event, "order.filled");
  EXPECT_EQ(got[1].event, "");
  EXPECT_EQ(error(R"({"topic":"a","data":1,"event":""})"),
            "event 0: 'event' must be a string of 1-100 bytes without control characters");
  EXPECT_EQ(error(R"({"topic":"a","data":1,"event":7})"),
            "event 0: 'event' must be a string of 1-100 bytes without control characters");
  EXPECT_EQ(error(R"({"topic":"a","data":1,"event":"a\nb"})"),
            "event 0: 'event' must be a string of 1-100 bytes without control characters");
}

TEST(publish_codec, refuses_a_snapshot_mark_that_is_not_a_boolean) {
  EXPECT_EQ(error(R"({"topic":"a","data":1,"snapshot":"true"})"),
            "event 0: 'snapshot' must be true or false");
  EXPECT_EQ(error(R"([{"topic":"a","data":1},{"topic":"a","data":1,"snapshot":1}])"),
            "event 1: 'snapshot' must be true or false");
  EXPECT_EQ(error(R"({"topic":"a","data":1,"snapshot":null})"),
            "event 0: 'snapshot' must be true or false");
}

namespace {

broadcast_item broadcast(std::string_view body) {
  auto r = decode_broadcast_body(body);
  if (auto* e = std::get_if<publish_error>(&r)) {
    ADD_FAILURE() << e->message;
    return {};
  }
  return std::get<broadcast_item>(r);
}

std::string broadcast_error(std::string_view body) {
  auto r = decode_broadcast_body(body);
  EXPECT_TRUE(std::holds_alternative<publish_error>(r)) << body;
  auto* e = std::get_if<publish_error>(&r);
  return e ? e->message : "";
}

} // namespace

TEST(broadcast_codec, one_body_names_many_topics_and_keeps_data_byte_for_byte) {
  auto got = broadcast(R"({"topics":["price:BTC","price:ETH","price:BTC"],"data":{ "halt" : true },"event":"market.halt"})");
  EXPECT_EQ(got.topics, (std::vector<std::string>{"price:BTC", "price:ETH"}));
  EXPECT_EQ(got.payload, R"({ "halt" : true })");
  EXPECT_EQ(got.event, "market.halt");
}

TEST(broadcast_codec, says_what_is_wrong_with_a_bad_body) {
  EXPECT_EQ(broadcast_error("{"), "body is not valid JSON");
  EXPECT_EQ(broadcast_error(R"([{"topics":["a"],"data":1}])"),
            R"(body must be an object {"topics":[...],"data":...})");
  EXPECT_EQ(broadcast_error(R"({"data":1})"), "missing 'topics'");
  EXPECT_EQ(broadcast_error(R"({"topics":["a"]})"), "missing 'data'");
  EXPECT_EQ(broadcast_error(R"({"topics":"a","data":1})"), "'topics' must be an array of topic names");
  EXPECT_EQ(broadcast_error(R"({"topics":[],"data":1})"), "'topics' names no topic");
  EXPECT_EQ(broadcast_error(R"({"topics":["a",7],"data":1})"), "topics[1]: must be a string");
  EXPECT_NE(broadcast_error(R"({"topics":["a b"],"data":1})").find("topics[0]: invalid topic name"),
            std::string::npos);
  EXPECT_NE(broadcast_error(R"({"topics":["a"],"data":1,"event":""})").find("'event' must be"),
            std::string::npos);
}

TEST(broadcast_codec, at_most_max_broadcast_topics_per_request) {
  std::string body = R"({"data":1,"topics":[)";
  for (size_t i = 0; i <= max_broadcast_topics; ++i)
    body += (i ? ",\"t" : "\"t") + std::to_string(i) + "\"";
  body += "]}";
  EXPECT_EQ(broadcast_error(body), "at most 1000 topics per broadcast");
  body.replace(body.rfind(",\"t"), std::string::npos, "]}"); // exactly the maximum
  EXPECT_EQ(broadcast(body).topics.size(), max_broadcast_topics);
}
