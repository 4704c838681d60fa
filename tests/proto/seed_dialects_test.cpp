// The action, stream and typed-envelope decoders as a client sees them
// through their error replies.
#include <gtest/gtest.h>

#include "proto/frame_codec.hpp"
#include "proto/json_text.hpp"

using namespace tickgate;

namespace {

// The error text frame a client would receive for `frame`.
std::string error_reply(const decoded_frame& frame) {
  auto* err = std::get_if<client_error>(&frame);
  if (!err) {
    ADD_FAILURE() << "expected an error";
    return {};
  }
  return encode_error_frame(reply_to{err->format, err->id, err->ctx}, err->code, err->message);
}

// 63 ASCII letters then "é" (2 bytes): a cut at 64 bytes would split it.
const std::string long_name = std::string(63, 'a') + "\xc3\xa9";

} // namespace

TEST(seed_dialects, an_unknown_action_with_a_long_non_ascii_name_gets_a_valid_utf8_error) {
  auto reply = error_reply(decode_action_frame(R"({"action":")" + long_name + "\"}"));
  EXPECT_TRUE(json_text::is_valid_utf8(reply)) << reply;
  EXPECT_EQ(classify_payload(reply), payload_kind::json) << reply;
  EXPECT_NE(reply.find("Unknown action: " + std::string(63, 'a') + "\""), std::string::npos)
    << reply;
}

TEST(seed_dialects, a_too_long_symbol_is_quoted_without_half_a_character) {
  auto reply = error_reply(
    decode_action_frame(R"({"action":"subscribe","symbols":[")" + long_name + "\"]}"));
  EXPECT_EQ(classify_payload(reply), payload_kind::json) << reply;
  EXPECT_NE(reply.find("Invalid symbol: " + std::string(63, 'a') + "\""), std::string::npos)
    << reply;
}

TEST(seed_dialects, an_unknown_stream_method_with_a_long_non_ascii_name_gets_a_valid_error) {
  auto reply = error_reply(decode_stream_frame(R"({"method":")" + long_name + R"(","id":7})"));
  EXPECT_EQ(classify_payload(reply), payload_kind::json) << reply;
  EXPECT_NE(reply.find(R"("id":7)"), std::string::npos) << reply;
}

TEST(seed_dialects, an_unknown_typed_message_with_a_long_non_ascii_type_gets_a_valid_error) {
  auto reply = error_reply(decode_typed_frame(R"({"type":")" + long_name + R"(","id":"r1"})"));
  EXPECT_EQ(classify_payload(reply), payload_kind::json) << reply;
  EXPECT_NE(reply.find(R"("code":"unknown_op")"), std::string::npos) << reply;
}

namespace {

client_command stream_command(std::string_view frame) {
  auto decoded = decode_stream_frame(frame);
  if (auto* err = std::get_if<client_error>(&decoded)) {
    ADD_FAILURE() << frame << ": " << err->message;
    return {};
  }
  return std::get<client_command>(decoded);
}

} // namespace

TEST(seed_dialects, a_stream_speed_suffix_subscribes_the_topic_throttled) {
  auto cmd = stream_command(
    R"({"method":"SUBSCRIBE","params":["depth@AAPL@100ms","trade@AAPL@100ms"],"id":1})");
  EXPECT_EQ(cmd.topics, (std::vector<std::string>{"depth@AAPL", "trade@AAPL"}));
  EXPECT_EQ(cmd.names, (std::vector<std::string>{"depth@AAPL@100ms", "trade@AAPL@100ms"}));
  EXPECT_EQ(cmd.options.throttle_ms, 100u);
  auto slow = stream_command(R"({"method":"SUBSCRIBE","params":["depth@AAPL@1000ms"],"id":2})");
  EXPECT_EQ(slow.topics, std::vector<std::string>{"depth@AAPL"});
  EXPECT_EQ(slow.options.throttle_ms, 1000u);
  auto plain = stream_command(R"({"method":"SUBSCRIBE","params":["depth@AAPL"],"id":3})");
  EXPECT_EQ(plain.options.throttle_ms, 0u);
  EXPECT_EQ(plain.format, wire_format{dialect::stream});
  // Other suffixes are part of the topic name, as before.
  auto other = stream_command(R"({"method":"SUBSCRIBE","params":["depth@AAPL@250ms"],"id":4})");
  EXPECT_EQ(other.topics, std::vector<std::string>{"depth@AAPL@250ms"});
  EXPECT_EQ(other.options.throttle_ms, 0u);
}

TEST(seed_dialects, a_throttled_stream_is_named_with_its_suffix_in_events) {
  auto cmd = stream_command(R"({"method":"SUBSCRIBE","params":["depth@AAPL@100ms"],"id":1})");
  event_fields ev{"depth@AAPL", 4, "E", 5, R"({"b":[]})", payload_kind::json, true};
  EXPECT_EQ(encode_event_frame(cmd.format, ev), R"({"stream":"depth@AAPL@100ms","data":{"b":[]}})");
  EXPECT_EQ(encode_event_frame(wire_format{dialect::stream}, ev),
            R"({"stream":"depth@AAPL","data":{"b":[]}})");
  EXPECT_EQ(encode_reset_frame(cmd.format, "depth@AAPL", "E2"),
            R"({"stream":"depth@AAPL@100ms","reset":{"epoch":"E2"}})");
  // The ack echoes the request as before.
  reply_to to{cmd.format, cmd.id, cmd.ctx};
  EXPECT_EQ(encode_ack_frames(to, cmd.op, cmd.names, cmd.names),
            std::vector<std::string>{R"({"result":null,"id":1})"});
}

TEST(seed_dialects, one_subscribe_may_not_mix_update_speeds) {
  for (auto params : {R"(["depth@AAPL","depth@AAPL@100ms"])",
                      R"(["depth@AAPL@100ms","trade@AAPL@1000ms"])",
                      R"(["depth@AAPL@1000ms","trade@AAPL"])"}) {
    auto reply = error_reply(decode_stream_frame(
      R"({"method":"SUBSCRIBE","params":)" + std::string{params} + R"(,"id":9})"));
    EXPECT_EQ(reply, R"({"error":{"code":2,"msg":"Invalid request: all streams of one SUBSCRIBE )"
                     R"x(must have the same update speed (no suffix, @100ms or @1000ms)"},"id":9})x")
      << params;
  }
  EXPECT_NE(error_reply(decode_stream_frame(R"({"method":"SUBSCRIBE","params":["a b@100ms"],"id":1})"))
              .find(R"("code":1)"),
            std::string::npos);
}

TEST(seed_dialects, unsubscribe_accepts_suffixed_and_plain_names_of_one_topic) {
  auto cmd = stream_command(
    R"({"method":"UNSUBSCRIBE","params":["depth@AAPL@100ms","depth@AAPL","trade@X"],"id":1})");
  EXPECT_EQ(cmd.topics, (std::vector<std::string>{"depth@AAPL", "trade@X"}));
  EXPECT_EQ(cmd.options.throttle_ms, 0u);
}

TEST(seed_dialects, seed_events_do_not_change_shape_for_snapshots) {
  event_fields ev{"channel:trade:AAPL", 4, "E", 5000, R"({"p":1})", payload_kind::json, true};
  EXPECT_EQ(encode_event_frame(wire_format{dialect::action}, ev),
            R"({"type":"trade","data":{"p":1},"timestamp":5})");
  EXPECT_EQ(encode_event_frame(wire_format{dialect::typed}, ev),
            R"({"type":"market_data","data":{"p":1},"timestamp":5})");
}
