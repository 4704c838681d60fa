#include "proto/native_codec.hpp"

#include <gtest/gtest.h>

#include "tickgate.pb.h"

using namespace tickgate;

namespace {

client_command as_command(const decoded_frame& d) {
  if (auto* err = std::get_if<client_error>(&d))
    ADD_FAILURE() << "unexpected error: " << err->message;
  return std::get_if<client_command>(&d) ? std::get<client_command>(d)
                                         : client_command{};
}

client_error as_error(const decoded_frame& d) {
  EXPECT_TRUE(std::holds_alternative<client_error>(d));
  return std::get_if<client_error>(&d) ? std::get<client_error>(d)
                                       : client_error{};
}

client_error json_error(std::string_view text) {
  return as_error(decode_client_frame(text, false));
}

} // namespace

TEST(native_codec_json, decodes_subscribe_with_id_and_topics) {
  auto cmd = as_command(decode_client_frame(
    R"({"op":"subscribe","id":1,"topics":["trade@AAPL","ticker@AAPL"]})", false));
  EXPECT_EQ(cmd.op, client_op::subscribe);
  ASSERT_TRUE(cmd.id);
  EXPECT_EQ(*cmd.id, 1u);
  EXPECT_EQ(cmd.topics, (std::vector<std::string>{"trade@AAPL", "ticker@AAPL"}));
  EXPECT_EQ(cmd.format, wire_format::json);
}

TEST(native_codec_json, decodes_unsubscribe_ping_and_auth) {
  auto un = as_command(decode_client_frame(
    R"({"op":"unsubscribe","id":2,"topics":["trade@AAPL"]})", false));
  EXPECT_EQ(un.op, client_op::unsubscribe);
  auto ping = as_command(decode_client_frame(R"({"op":"ping","id":3})", false));
  EXPECT_EQ(ping.op, client_op::ping);
  EXPECT_EQ(*ping.id, 3u);
  auto auth = as_command(decode_client_frame(R"({"op":"auth","token":"abc"})", false));
  EXPECT_EQ(auth.op, client_op::auth);
  EXPECT_EQ(auth.token, "abc");
  EXPECT_FALSE(auth.id);
}

TEST(native_codec_json, removes_duplicate_topics_keeping_order) {
  auto cmd = as_command(decode_client_frame(
    R"({"op":"subscribe","topics":["b","a","b"]})", false));
  EXPECT_EQ(cmd.topics, (std::vector<std::string>{"b", "a"}));
}

TEST(native_codec_json, rejects_invalid_json_as_bad_request) {
  auto err = json_error(R"({"op":"subscribe",)");
  EXPECT_EQ(err.code, error_code::bad_request);
  EXPECT_FALSE(err.id);
}

TEST(native_codec_json, rejects_non_objects) {
  EXPECT_EQ(json_error("[1,2]").code, error_code::bad_request);
  EXPECT_EQ(json_error("\"ping\"").code, error_code::bad_request);
}

TEST(native_codec_json, keeps_the_id_in_errors_when_readable) {
  auto err = json_error(R"({"op":"launch","id":7})");
  EXPECT_EQ(err.code, error_code::unknown_op);
  ASSERT_TRUE(err.id);
  EXPECT_EQ(*err.id, 7u);
}

TEST(native_codec_json, rejects_wrong_types) {
  EXPECT_EQ(json_error(R"({"op":1})").code, error_code::bad_request);
  EXPECT_EQ(json_error(R"({"op":"ping","id":"x"})").code, error_code::bad_request);
  EXPECT_EQ(json_error(R"({"op":"ping","id":-1})").code, error_code::bad_request);
  EXPECT_EQ(json_error(R"({"op":"subscribe","topics":"trade@AAPL"})").code,
            error_code::bad_request);
  EXPECT_EQ(json_error(R"({"op":"subscribe","topics":[1]})").code,
            error_code::bad_request);
  EXPECT_EQ(json_error(R"({"op":"subscribe"})").code, error_code::bad_request);
  EXPECT_EQ(json_error(R"({"id":1})").code, error_code::bad_request);
  EXPECT_EQ(json_error(R"({"op":"auth","token":5})").code, error_code::bad_request);
}

TEST(native_codec_json, rejects_empty_topic_lists_and_bad_names) {
  EXPECT_EQ(json_error(R"({"op":"subscribe","topics":[]})").code,
            error_code::bad_request);
  EXPECT_EQ(json_error(R"({"op":"subscribe","topics":[""]})").code,
            error_code::invalid_topic);
  EXPECT_EQ(json_error(R"({"op":"subscribe","topics":["a b"]})").code,
            error_code::invalid_topic);
  EXPECT_EQ(json_error(R"({"op":"subscribe","topics":["a\"b"]})").code,
            error_code::invalid_topic);
  std::string longname(129, 'x');
  auto err = json_error(R"({"op":"subscribe","topics":[")" + longname + "\"]}");
  EXPECT_EQ(err.code, error_code::invalid_topic);
  EXPECT_NE(err.message.find("longer than 128"), std::string::npos);
  std::string maxname(128, 'x');
  as_command(decode_client_frame(
    R"({"op":"subscribe","topics":[")" + maxname + "\"]}", false));
}

TEST(native_codec_json, rejects_too_many_topics_in_one_request) {
  std::string frame = R"({"op":"subscribe","topics":[)";
  for (size_t i = 0; i <= max_topics_per_request; ++i)
    frame += (i ? ",\"t" : "\"t") + std::to_string(i) + "\"";
  frame += "]}";
  EXPECT_EQ(json_error(frame).code, error_code::bad_request);
}

TEST(native_codec_proto, decodes_the_same_operations) {
  v1::ClientFrame f;
  f.set_id(9);
  f.mutable_subscribe()->add_topics("trade@AAPL");
  f.mutable_subscribe()->add_topics("depth@AAPL");
  auto cmd = as_command(decode_client_frame(f.SerializeAsString(), true));
  EXPECT_EQ(cmd.op, client_op::subscribe);
  EXPECT_EQ(*cmd.id, 9u);
  EXPECT_EQ(cmd.format, wire_format::proto);
  EXPECT_EQ(cmd.topics, (std::vector<std::string>{"trade@AAPL", "depth@AAPL"}));

  v1::ClientFrame p;
  p.mutable_ping();
  auto ping = as_command(decode_client_frame(p.SerializeAsString(), true));
  EXPECT_EQ(ping.op, client_op::ping);
  EXPECT_FALSE(ping.id);
}

TEST(native_codec_proto, rejects_garbage_and_empty_frames) {
  auto err = as_error(decode_client_frame("\xff\xff\xff", true));
  EXPECT_EQ(err.code, error_code::bad_request);
  EXPECT_EQ(err.format, wire_format::proto);
  v1::ClientFrame empty;
  empty.set_id(4);
  auto none = as_error(decode_client_frame(empty.SerializeAsString(), true));
  EXPECT_EQ(none.code, error_code::unknown_op);
  EXPECT_EQ(*none.id, 4u);
  v1::ClientFrame bad;
  bad.mutable_subscribe()->add_topics("no spaces");
  EXPECT_EQ(as_error(decode_client_frame(bad.SerializeAsString(), true)).code,
            error_code::invalid_topic);
}

TEST(native_codec_encode, event_json_embeds_json_payloads_verbatim) {
  event_fields ev{"trade@AAPL", 42, "n1-3", 1763800000123456,
                  R"({"p":"189.20","q":"5"})", payload_kind::json};
  EXPECT_EQ(encode_event(wire_format::json, ev),
            R"({"type":"event","topic":"trade@AAPL","seq":42,"epoch":"n1-3",)"
            R"("ts":1763800000123456,"data":{"p":"189.20","q":"5"}})");
}

TEST(native_codec_encode, event_json_quotes_text_and_base64s_binary) {
  event_fields text{"t", 1, "e", 5, "hi \"x\"", payload_kind::text};
  EXPECT_EQ(encode_event(wire_format::json, text),
            R"({"type":"event","topic":"t","seq":1,"epoch":"e","ts":5,"data":"hi \"x\""})");
  event_fields bin{"t", 2, "e", 5, std::string_view("\xff\x00", 2),
                   payload_kind::binary};
  EXPECT_EQ(encode_event(wire_format::json, bin),
            R"({"type":"event","topic":"t","seq":2,"epoch":"e","ts":5,"data_b64":"/wA="})");
}

TEST(native_codec_encode, event_proto_carries_the_same_fields) {
  std::string payload("\x01\x02\xff", 3);
  event_fields ev{"trade@AAPL", 42, "n1-3", 1763800000123456, payload,
                  payload_kind::binary};
  v1::ServerFrame f;
  ASSERT_TRUE(f.ParseFromString(encode_event(wire_format::proto, ev)));
  ASSERT_TRUE(f.has_event());
  EXPECT_EQ(f.event().topic(), "trade@AAPL");
  EXPECT_EQ(f.event().seq(), 42u);
  EXPECT_EQ(f.event().epoch(), "n1-3");
  EXPECT_EQ(f.event().ts(), 1763800000123456);
  EXPECT_EQ(f.event().data(), payload);
}

TEST(native_codec_encode, ack_error_and_pong_json_shapes) {
  std::vector<std::string> topics{"trade@AAPL", "ticker@AAPL"};
  EXPECT_EQ(encode_ack(wire_format::json, 1, client_op::subscribe, topics),
            R"({"type":"ack","id":1,"op":"subscribe","topics":["trade@AAPL","ticker@AAPL"]})");
  EXPECT_EQ(encode_ack(wire_format::json, std::nullopt, client_op::unsubscribe,
                       std::vector<std::string>{"a"}),
            R"({"type":"ack","op":"unsubscribe","topics":["a"]})");
  EXPECT_EQ(encode_error(wire_format::json, 1, error_code::limit_exceeded,
                         "too \"many\""),
            R"({"type":"error","id":1,"code":"limit_exceeded","message":"too \"many\""})");
  EXPECT_EQ(encode_pong(wire_format::json, 3, 99),
            R"({"type":"pong","id":3,"ts":99})");
}

TEST(native_codec_encode, ack_error_and_pong_proto_round_trip) {
  v1::ServerFrame f;
  ASSERT_TRUE(f.ParseFromString(encode_ack(wire_format::proto, 5, client_op::subscribe,
                                           std::vector<std::string>{"x"})));
  EXPECT_EQ(f.ack().id(), 5u);
  EXPECT_EQ(f.ack().op(), "subscribe");
  ASSERT_EQ(f.ack().topics_size(), 1);
  ASSERT_TRUE(f.ParseFromString(
    encode_error(wire_format::proto, std::nullopt, error_code::invalid_topic, "m")));
  EXPECT_FALSE(f.error().has_id());
  EXPECT_EQ(f.error().code(), v1::ERROR_CODE_INVALID_TOPIC);
  ASSERT_TRUE(f.ParseFromString(encode_pong(wire_format::proto, 8, 77)));
  EXPECT_EQ(f.pong().id(), 8u);
  EXPECT_EQ(f.pong().ts(), 77);
}

TEST(native_codec_encode, error_code_names_are_stable) {
  EXPECT_EQ(to_string(error_code::bad_request), "bad_request");
  EXPECT_EQ(to_string(error_code::unknown_op), "unknown_op");
  EXPECT_EQ(to_string(error_code::invalid_topic), "invalid_topic");
  EXPECT_EQ(to_string(error_code::limit_exceeded), "limit_exceeded");
  EXPECT_EQ(to_string(error_code::rate_limited), "rate_limited");
  EXPECT_EQ(to_string(error_code::unsupported), "unsupported");
  EXPECT_EQ(static_cast<int>(error_code::limit_exceeded),
            static_cast<int>(v1::ERROR_CODE_LIMIT_EXCEEDED));
  for (int i = 1; i < error_code_count; ++i)
    EXPECT_EQ(parse_error_code(to_string(static_cast<error_code>(i))),
              static_cast<error_code>(i));
}

TEST(payload, classifies_json_text_and_binary) {
  EXPECT_EQ(classify_payload(R"({"a":1})"), payload_kind::json);
  EXPECT_EQ(classify_payload("42"), payload_kind::json);
  EXPECT_EQ(classify_payload("hello"), payload_kind::text);
  EXPECT_EQ(classify_payload(""), payload_kind::text);
  EXPECT_EQ(classify_payload(std::string("\xff\x01", 2)), payload_kind::binary);
}
