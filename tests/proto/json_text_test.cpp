#include "proto/json_text.hpp"

#include <limits>

#include <gtest/gtest.h>

using namespace tickgate;

TEST(json_text, escapes_quotes_backslashes_and_control_characters) {
  std::string out;
  json_text::append_string(out, "a\"b\\c\n\x01");
  EXPECT_EQ(out, R"("a\"b\\c\n\u0001")");
}

TEST(json_text, leaves_utf8_untouched) {
  std::string out;
  json_text::append_string(out, "€ ok");
  EXPECT_EQ(out, "\"€ ok\"");
}

TEST(json_text, writes_doubles_shortest_and_non_finite_as_null) {
  std::string out;
  for (double d : {0.1, 100.5, -2.0, 1e21, 5e-324})
    (json_text::append_double(out, d), out += ' ');
  for (double d : {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity()})
    (json_text::append_double(out, d), out += ' ');
  EXPECT_EQ(out, "0.1 100.5 -2 1e+21 5e-324 null null ");
}

TEST(json_text, encodes_base64_with_padding) {
  auto b64 = [](std::string_view s) {
    std::string out;
    json_text::append_base64(out, s);
    return out;
  };
  EXPECT_EQ(b64(""), "");
  EXPECT_EQ(b64("f"), "Zg==");
  EXPECT_EQ(b64("fo"), "Zm8=");
  EXPECT_EQ(b64("foo"), "Zm9v");
  EXPECT_EQ(b64(std::string("\xff\x00\x10", 3)), "/wAQ");
}

TEST(json_text, validates_utf8) {
  EXPECT_TRUE(json_text::is_valid_utf8("plain"));
  EXPECT_TRUE(json_text::is_valid_utf8("€𝄞"));
  EXPECT_FALSE(json_text::is_valid_utf8("\xff"));
  EXPECT_FALSE(json_text::is_valid_utf8("\xc0\xaf"));         // overlong
  EXPECT_FALSE(json_text::is_valid_utf8("\xed\xa0\x80"));     // surrogate
  EXPECT_FALSE(json_text::is_valid_utf8("\xe2\x82"));         // truncated
}

TEST(json_text, cuts_text_only_between_characters) {
  EXPECT_EQ(json_text::utf8_prefix("short", 64), "short");
  EXPECT_EQ(json_text::utf8_prefix("abcdef", 3), "abc");
  EXPECT_EQ(json_text::utf8_prefix("ab€", 3), "ab");      // € is 3 bytes: not half of it
  EXPECT_EQ(json_text::utf8_prefix("ab€", 5), "ab€");
  EXPECT_EQ(json_text::utf8_prefix("𝄞x", 2), "");
  EXPECT_EQ(json_text::utf8_prefix("é", 0), "");
}
