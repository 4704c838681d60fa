#include "proto/json_writer.hpp"

#include <cstdint>
#include <limits>

#include <gtest/gtest.h>
#include <simdjson.h>

using namespace tickgate;

namespace {

std::string string_value(std::string_view s) {
  return json_quoted(s);
}

} // namespace

TEST(json_writer, escapes_quotes_backslashes_and_control_characters) {
  EXPECT_EQ(string_value("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(string_value("\n\r\t\b\f"), R"("\n\r\t\b\f")");
  EXPECT_EQ(string_value(std::string_view{"\x00\x01\x1f", 3}), R"("\u0000\u0001\u001f")");
  EXPECT_EQ(string_value("\x7f"), "\"\x7f\""); // DEL needs no escape
}

TEST(json_writer, passes_non_ascii_text_through) {
  EXPECT_EQ(string_value("€ 𝄞 é"), "\"€ 𝄞 é\"");
}

TEST(json_writer, writes_invalid_utf8_as_replacement_characters) {
  EXPECT_EQ(string_value("a\xff" "b"), R"("a\ufffdb")");
  EXPECT_EQ(string_value("\xe2\x82"), R"("\ufffd\ufffd")");      // truncated €
  EXPECT_EQ(string_value("\xed\xa0\x80"), R"("\ufffd\ufffd\ufffd")"); // a surrogate
  EXPECT_EQ(string_value("\"\xc0\xaf€"), R"("\"\ufffd\ufffd€")");  // overlong, then valid
}

TEST(json_writer, places_commas_between_members_at_every_depth) {
  std::string out;
  json_writer w{out};
  w.begin_object()
    .field("a", 1)
    .key("list")
    .begin_array()
    .value(1)
    .begin_object()
    .end_object()
    .begin_array()
    .end_array()
    .value("x")
    .end_array()
    .key("nested")
    .begin_object()
    .field("b", true)
    .key("c")
    .null()
    .end_object()
    .field("d", false)
    .end_object();
  EXPECT_EQ(out, R"({"a":1,"list":[1,{},[],"x"],"nested":{"b":true,"c":null},"d":false})");
  simdjson::dom::parser parser;
  EXPECT_FALSE(parser.parse(out).error());
}

TEST(json_writer, writes_integers_of_every_width_and_sign) {
  std::string out;
  json_writer w{out};
  w.begin_array()
    .value(int8_t{-5})
    .value(uint16_t{65535})
    .value(std::numeric_limits<int64_t>::min())
    .value(std::numeric_limits<uint64_t>::max())
    .value(size_t{0})
    .end_array();
  EXPECT_EQ(out, "[-5,65535,-9223372036854775808,18446744073709551615,0]");
}

TEST(json_writer, writes_doubles_shortest_and_non_finite_as_null) {
  std::string out;
  json_writer w{out};
  w.begin_array()
    .value(0.5)
    .value(-2.0)
    .value(1e21)
    .value(std::numeric_limits<double>::infinity())
    .value(std::numeric_limits<double>::quiet_NaN())
    .end_array();
  EXPECT_EQ(out, "[0.5,-2,1e+21,null,null]");
}

TEST(json_writer, escapes_keys_and_keeps_raw_values_as_given) {
  std::string out;
  json_writer w{out};
  w.begin_object().key("k\"ey").raw(R"({"pre":"built"})").field("s", std::string{"v"}).end_object();
  EXPECT_EQ(out, R"({"k\"ey":{"pre":"built"},"s":"v"})");
}

TEST(json_writer, appends_to_what_the_string_holds) {
  std::string out = "prefix ";
  json_writer{out}.begin_object().field("ok", true).end_object();
  EXPECT_EQ(out, R"(prefix {"ok":true})");
}
