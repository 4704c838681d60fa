// The envelope that carries a publication's event name beside its payload
// through Redis (the event twin channel).
#include "proto/event_envelope.hpp"

#include <gtest/gtest.h>

using namespace tickgate;

TEST(event_envelope, a_name_and_any_payload_round_trip_byte_for_byte) {
  std::string binary{"\x00\x01\n\xff{", 5};
  for (auto payload : {std::string{R"({"id":1})"}, std::string{"plain text"}, binary,
                       std::string{}}) {
    auto bytes = encode_event_envelope("order.filled", false, payload);
    std::string error;
    auto env = decode_event_envelope(bytes, error);
    ASSERT_TRUE(env) << error;
    EXPECT_EQ(env->event, "order.filled");
    EXPECT_FALSE(env->snapshot);
    EXPECT_EQ(env->payload, payload);
  }
}

TEST(event_envelope, the_header_is_one_json_line_with_the_snapshot_mark_when_set) {
  EXPECT_EQ(encode_event_envelope("position.update", true, "{}"),
            "{\"event\":\"position.update\",\"snapshot\":true}\n{}");
  // A name with JSON specials is escaped in the header and read back as it was.
  auto bytes = encode_event_envelope(R"(a"b\c)", false, "1");
  std::string error;
  auto env = decode_event_envelope(bytes, error);
  ASSERT_TRUE(env) << error;
  EXPECT_EQ(env->event, R"(a"b\c)");
  auto snap = decode_event_envelope("{\"snapshot\":true,\"event\":\"x\",\"later\":1}\n2", error);
  ASSERT_TRUE(snap) << error;
  EXPECT_TRUE(snap->snapshot);
  EXPECT_EQ(snap->payload, "2");
}

TEST(event_envelope, refuses_messages_without_a_valid_header) {
  std::string error;
  EXPECT_FALSE(decode_event_envelope(R"({"event":"x"})", error)); // no newline
  EXPECT_NE(error.find("header line"), std::string::npos) << error;
  EXPECT_FALSE(decode_event_envelope("[1]\n{}", error));
  EXPECT_NE(error.find("not a JSON object"), std::string::npos) << error;
  EXPECT_FALSE(decode_event_envelope("{\"event\":\"\"}\n{}", error));
  EXPECT_NE(error.find("no valid event"), std::string::npos) << error;
  EXPECT_FALSE(decode_event_envelope("{\"event\":7}\n{}", error));
  EXPECT_FALSE(decode_event_envelope("{\"name\":\"x\"}\n{}", error));
  std::string long_header = "{\"event\":\"x\",\"pad\":\"" + std::string(600, 'p') + "\"}\n{}";
  EXPECT_FALSE(decode_event_envelope(long_header, error));
}

TEST(event_envelope, a_numbered_envelope_carries_its_position_and_time_with_or_without_a_name) {
  std::string error;
  auto plain = "{\"seq\":12,\"epoch\":\"ab12\"" + encode_numbered_tail(1765152000123456, "", false, "{\"p\":1}");
  EXPECT_EQ(plain, "{\"seq\":12,\"epoch\":\"ab12\",\"ts\":1765152000123456}\n{\"p\":1}");
  auto env = decode_event_envelope(plain, error);
  ASSERT_TRUE(env) << error;
  EXPECT_EQ(env->seq, 12u);
  EXPECT_EQ(env->epoch, "ab12");
  EXPECT_EQ(env->ts_us, 1765152000123456);
  EXPECT_EQ(env->event, "");
  EXPECT_EQ(env->payload, "{\"p\":1}");
  auto named = "{\"seq\":1,\"epoch\":\"e\"" + encode_numbered_tail(5, "order.new", true, "x");
  env = decode_event_envelope(named, error);
  ASSERT_TRUE(env) << error;
  EXPECT_EQ(env->event, "order.new");
  EXPECT_TRUE(env->snapshot);
  EXPECT_EQ(env->payload, "x");
  // An envelope without a position is as before.
  env = decode_event_envelope("{\"event\":\"a\"}\n1", error);
  ASSERT_TRUE(env) << error;
  EXPECT_EQ(env->seq, 0u);
  EXPECT_EQ(env->epoch, "");
}

TEST(event_envelope, refuses_a_malformed_position) {
  std::string error;
  for (auto bad : {"{\"seq\":0,\"epoch\":\"e\"}\n1", "{\"seq\":-1,\"epoch\":\"e\"}\n1",
                   "{\"seq\":\"1\",\"epoch\":\"e\"}\n1", "{\"seq\":1}\n1",
                   "{\"seq\":1,\"epoch\":\"\"}\n1", "{\"seq\":1,\"epoch\":7}\n1"}) {
    EXPECT_FALSE(decode_event_envelope(bad, error)) << bad;
    EXPECT_NE(error.find("position"), std::string::npos) << bad << ": " << error;
  }
  std::string long_epoch = "{\"seq\":1,\"epoch\":\"" + std::string(65, 'e') + "\"}\n1";
  EXPECT_FALSE(decode_event_envelope(long_epoch, error));
  // A position does not excuse an invalid name.
  EXPECT_FALSE(decode_event_envelope("{\"seq\":1,\"epoch\":\"e\",\"event\":\"\"}\n1", error));
}
