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
