// Engine.IO v4 long-polling bodies: packets joined with the record separator,
// as engine.io-parser's encodePayload/decodePayload write and read them.
#include "proto/engineio_payload.hpp"

#include <gtest/gtest.h>

#include "proto/socketio_codec.hpp"

using namespace tickgate;

namespace {

std::vector<engineio::packet> packets_of(std::string_view body) {
  auto r = engineio::decode_payload(body, 16);
  if (auto* err = std::get_if<engineio::payload_error>(&r)) {
    ADD_FAILURE() << err->message;
    return {};
  }
  return std::get<std::vector<engineio::packet>>(r);
}

std::string error_of(std::string_view body, size_t max_packets = 16) {
  auto r = engineio::decode_payload(body, max_packets);
  auto* err = std::get_if<engineio::payload_error>(&r);
  return err ? err->message : "<no error>";
}

} // namespace

TEST(engineio_payload, packets_are_joined_with_the_record_separator) {
  std::string out;
  engineio::append_packet(out, "2", false);
  engineio::append_packet(out, R"(42["price_update",{"p":1}])", false);
  engineio::append_packet(out, "6", false);
  EXPECT_EQ(out, "2\x1e" R"(42["price_update",{"p":1}])" "\x1e" "6");
}

TEST(engineio_payload, a_single_packet_has_no_separator) {
  std::string out;
  engineio::append_packet(out, "3probe", false);
  EXPECT_EQ(out, "3probe");
}

TEST(engineio_payload, binary_packets_travel_as_b_and_base64) {
  std::string out;
  engineio::append_packet(out, std::string_view{"\x01\x02\x03\xff", 4}, true);
  EXPECT_EQ(out, "bAQID/w==");
  auto back = packets_of(out);
  ASSERT_EQ(back.size(), 1u);
  EXPECT_TRUE(back[0].binary);
  EXPECT_EQ(back[0].bytes, std::string("\x01\x02\x03\xff", 4));
}

TEST(engineio_payload, a_client_batch_splits_into_its_packets_in_order) {
  auto packets = packets_of("40\x1e" R"(420["join_room",{"room":"price:X"}])" "\x1e" "3");
  ASSERT_EQ(packets.size(), 3u);
  EXPECT_EQ(packets[0].bytes, "40");
  EXPECT_EQ(packets[1].bytes, R"(420["join_room",{"room":"price:X"}])");
  EXPECT_EQ(packets[2].bytes, "3");
  EXPECT_FALSE(packets[2].binary);
}

TEST(engineio_payload, base64_of_every_padding_decodes) {
  EXPECT_EQ(packets_of("bYQ==")[0].bytes, "a");
  EXPECT_EQ(packets_of("bYWI=")[0].bytes, "ab");
  EXPECT_EQ(packets_of("bYWJj")[0].bytes, "abc");
}

TEST(engineio_payload, malformed_bodies_are_refused_with_a_reason) {
  EXPECT_EQ(error_of(""), "empty payload");
  EXPECT_EQ(error_of("2\x1e\x1e" "3"), "empty packet in payload");
  EXPECT_EQ(error_of("2\x1e"), "empty packet in payload");
  EXPECT_EQ(error_of("b!!!!"), "binary packet is not valid base64");
  EXPECT_EQ(error_of("bYQ="), "binary packet is not valid base64");
  EXPECT_EQ(error_of("2\x1e" "2\x1e" "2", 2), "more than 2 packets in one payload");
}

TEST(engineio_payload, errors_have_engine_io_codes_and_messages) {
  EXPECT_EQ(engineio::error_body(engineio::error::unknown_sid),
            R"({"code":1,"message":"Session ID unknown"})");
  EXPECT_EQ(engineio::error_body(engineio::error::unknown_transport),
            R"({"code":0,"message":"Transport unknown"})");
  EXPECT_EQ(engineio::error_body(engineio::error::bad_request),
            R"({"code":3,"message":"Bad request"})");
}

TEST(engineio_payload, a_session_opened_by_polling_offers_the_websocket_upgrade) {
  decoder_options polling{"abc", {}, 25000, 20000, 65536};
  polling.upgradable = true;
  EXPECT_EQ(socketio_decoder{polling}.on_open().front(),
            R"(0{"sid":"abc","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":65536})");
  decoder_options websocket{"abc", {}, 25000, 20000, 65536};
  EXPECT_EQ(socketio_decoder{websocket}.on_open().front(),
            R"(0{"sid":"abc","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":65536})");
}
