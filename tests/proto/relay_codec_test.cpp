// The frames cluster nodes exchange about a topic (RelayFrame): what a home
// node relays, what a node forwards to the home, and what a decoder refuses.
#include "proto/relay_codec.hpp"

#include <gtest/gtest.h>

#include "proto/frame_codec.hpp"
#include "tickgate.pb.h"

using namespace tickgate;

namespace {

constexpr size_t max_bytes = 1u << 20;

relay_frame decoded(std::string_view bytes) {
  std::string error;
  auto frame = decode_relay_frame(bytes, max_bytes, error);
  EXPECT_TRUE(frame) << error;
  return frame ? std::move(*frame) : relay_frame{};
}

// The decoder's reason for refusing `bytes`, or "accepted".
std::string refusal(std::string_view bytes, size_t limit = max_bytes) {
  std::string error;
  auto frame = decode_relay_frame(bytes, limit, error);
  return frame ? std::string{"accepted"} : error;
}

std::string event_frame(std::string_view topic, uint64_t seq, std::string_view epoch,
                        std::string_view event = {}) {
  v1::RelayFrame frame;
  auto* e = frame.mutable_event();
  e->set_topic(std::string{topic});
  e->set_seq(seq);
  e->set_epoch(std::string{epoch});
  e->set_data("{}");
  e->set_event(std::string{event});
  return frame.SerializeAsString();
}

event_fields numbered_event(payload_kind kind, std::string_view payload) {
  event_fields ev;
  ev.topic = "trade@AAPL";
  ev.seq = 42;
  ev.epoch = "e-7f3a";
  ev.ts_us = 1'700'000'000'123'456;
  ev.payload = payload;
  ev.kind = kind;
  ev.snapshot = true;
  ev.event = "order.filled";
  ev.spread_args = false;
  return ev;
}

} // namespace

TEST(relay_codec, an_event_round_trips_with_every_field_and_its_position) {
  auto ev = numbered_event(payload_kind::json, R"({"p":101.5,"q":3})");
  auto frame = decoded(encode_relay_event(ev));
  EXPECT_EQ(frame.what, relay_frame::kind::event);
  EXPECT_EQ(frame.pub.topic, "trade@AAPL");
  EXPECT_EQ(frame.seq, 42u);
  EXPECT_EQ(frame.epoch, "e-7f3a");
  EXPECT_EQ(frame.pub.ts_us, 1'700'000'000'123'456);
  EXPECT_EQ(frame.pub.payload, R"({"p":101.5,"q":3})");
  EXPECT_EQ(frame.pub.kind, payload_kind::json);
  EXPECT_TRUE(frame.pub.snapshot);
  EXPECT_EQ(frame.pub.event, "order.filled");
  EXPECT_FALSE(frame.pub.spread_args);
}

TEST(relay_codec, text_and_binary_payloads_keep_their_kind_and_bytes) {
  auto text = decoded(encode_relay_event(numbered_event(payload_kind::text, "plain words")));
  EXPECT_EQ(text.pub.kind, payload_kind::text);
  EXPECT_EQ(text.pub.payload, "plain words");

  const std::string bytes{"\x00\xff\x01\x80 tail", 9};
  auto binary = decoded(encode_relay_event(numbered_event(payload_kind::binary, bytes)));
  EXPECT_EQ(binary.pub.kind, payload_kind::binary);
  EXPECT_EQ(binary.pub.payload, bytes);
}

TEST(relay_codec, socketio_arguments_stay_marked_for_spreading) {
  auto ev = numbered_event(payload_kind::json, R"([1,"two",{"three":3}])");
  ev.spread_args = true;
  ev.snapshot = false;
  ev.event = {}; // no event name
  auto frame = decoded(encode_relay_event(ev));
  EXPECT_TRUE(frame.pub.spread_args);
  EXPECT_FALSE(frame.pub.snapshot);
  EXPECT_EQ(frame.pub.event, "");
  EXPECT_EQ(frame.pub.payload, R"([1,"two",{"three":3}])");
}

TEST(relay_codec, a_forwarded_publish_carries_no_position) {
  publication pub;
  pub.topic = "depth@MSFT";
  pub.payload = "raw";
  pub.kind = payload_kind::text;
  pub.ts_us = 55;
  pub.snapshot = true;
  pub.event = "book";
  pub.spread_args = true;
  pub.seq = 9; // a position the publication may carry is not the home's to take
  pub.epoch = "elsewhere";
  auto frame = decoded(encode_relay_publish(pub));
  EXPECT_EQ(frame.what, relay_frame::kind::event);
  EXPECT_EQ(frame.seq, 0u);
  EXPECT_EQ(frame.epoch, "");
  EXPECT_EQ(frame.pub.topic, "depth@MSFT");
  EXPECT_EQ(frame.pub.payload, "raw");
  EXPECT_EQ(frame.pub.kind, payload_kind::text);
  EXPECT_EQ(frame.pub.ts_us, 55);
  EXPECT_TRUE(frame.pub.snapshot);
  EXPECT_EQ(frame.pub.event, "book");
  EXPECT_TRUE(frame.pub.spread_args);
}

TEST(relay_codec, a_reset_round_trips_with_topic_and_epoch) {
  auto frame = decoded(encode_relay_reset("ticker@BTC-USD", "epoch-2"));
  EXPECT_EQ(frame.what, relay_frame::kind::reset);
  EXPECT_EQ(frame.pub.topic, "ticker@BTC-USD");
  EXPECT_EQ(frame.epoch, "epoch-2");
}

TEST(relay_codec, a_status_round_trips_with_state_and_message) {
  auto frame = decoded(encode_relay_status("trade@AAPL", "feed_down", "redis lost"));
  EXPECT_EQ(frame.what, relay_frame::kind::status);
  EXPECT_EQ(frame.pub.topic, "trade@AAPL");
  EXPECT_EQ(frame.state, "feed_down");
  EXPECT_EQ(frame.message, "redis lost");
}

TEST(relay_codec, a_frame_over_the_limit_is_refused_before_parsing) {
  auto bytes = encode_relay_event(numbered_event(payload_kind::text, std::string(200, 'x')));
  EXPECT_NE(refusal(bytes, bytes.size() - 1).find("exceeds"), std::string::npos);
  EXPECT_EQ(refusal(bytes, bytes.size()), "accepted");
}

TEST(relay_codec, garbage_bytes_are_not_a_relay_frame) {
  EXPECT_EQ(refusal("\xff\xff\xff\xff"), "not a relay frame");
  EXPECT_EQ(refusal("\x0a\x10short"), "not a relay frame"); // a field longer than the input
}

TEST(relay_codec, an_empty_frame_is_refused) {
  EXPECT_EQ(refusal(""), "empty relay frame");
  v1::RelayFrame only_kind;
  only_kind.set_payload_kind(v1::PAYLOAD_KIND_TEXT);
  EXPECT_EQ(refusal(only_kind.SerializeAsString()), "empty relay frame");
}

TEST(relay_codec, every_kind_of_frame_needs_a_valid_topic) {
  EXPECT_EQ(refusal(event_frame("", 1, "e")), "invalid topic");
  EXPECT_EQ(refusal(event_frame("has space", 1, "e")), "invalid topic");
  EXPECT_EQ(refusal(event_frame(std::string(129, 'a'), 0, "")), "invalid topic");
  EXPECT_EQ(refusal(encode_relay_reset("bad\ntopic", "e")), "invalid topic");
  EXPECT_EQ(refusal(encode_relay_status("$sys:stats", "feed_up", "")), "invalid topic");
}

TEST(relay_codec, a_numbered_event_needs_an_epoch_of_at_most_64_bytes) {
  EXPECT_NE(refusal(event_frame("t", 1, "")), "accepted");
  EXPECT_EQ(refusal(event_frame("t", 1, std::string(64, 'e'))), "accepted");
  EXPECT_NE(refusal(event_frame("t", 1, std::string(65, 'e'))), "accepted");
  EXPECT_EQ(refusal(event_frame("t", 0, "")), "accepted"); // a forwarded publish
}

TEST(relay_codec, a_reset_needs_an_epoch_of_at_most_64_bytes) {
  EXPECT_NE(refusal(encode_relay_reset("t", "")), "accepted");
  EXPECT_EQ(refusal(encode_relay_reset("t", std::string(64, 'e'))), "accepted");
  EXPECT_NE(refusal(encode_relay_reset("t", std::string(65, 'e'))), "accepted");
}

TEST(relay_codec, an_invalid_event_name_is_refused) {
  EXPECT_EQ(refusal(event_frame("t", 1, "e", "bad\x01name")), "invalid event name");
  EXPECT_EQ(refusal(event_frame("t", 1, "e", std::string(max_event_name_length + 1, 'n'))),
            "invalid event name");
  EXPECT_EQ(refusal(event_frame("t", 1, "e", std::string(max_event_name_length, 'n'))),
            "accepted");
}

TEST(relay_codec, an_unknown_payload_kind_is_refused) {
  v1::RelayFrame frame;
  frame.mutable_event()->set_topic("t");
  frame.set_payload_kind(static_cast<v1::PayloadKind>(9));
  EXPECT_EQ(refusal(frame.SerializeAsString()), "unknown payload kind");
}

TEST(relay_codec, the_relay_wire_format_encodes_events_resets_and_statuses_as_relay_frames) {
  auto ev = numbered_event(payload_kind::json, R"({"p":1})");
  EXPECT_EQ(encode_event_frame(wire_format::relay, ev), encode_relay_event(ev));
  auto event = decoded(encode_event_frame(wire_format::relay, ev));
  EXPECT_EQ(event.seq, 42u);
  EXPECT_EQ(event.epoch, "e-7f3a");

  auto reset = decoded(encode_reset_frame(wire_format::relay, "trade@AAPL", "e-8"));
  EXPECT_EQ(reset.what, relay_frame::kind::reset);
  EXPECT_EQ(reset.epoch, "e-8");

  auto status = decoded(encode_status_frame(wire_format::relay, "trade@AAPL", "feed_up", "ok"));
  EXPECT_EQ(status.what, relay_frame::kind::status);
  EXPECT_EQ(status.state, "feed_up");
  EXPECT_EQ(status.message, "ok");
}

TEST(relay_codec, replies_in_the_relay_wire_format_are_empty) {
  reply_to to{wire_format::relay, 7, {}};
  const std::vector<std::string> topics{"trade@AAPL"};
  EXPECT_TRUE(encode_ack_frames(to, client_op::subscribe, topics, topics).empty());
  EXPECT_EQ(encode_error_frame(to, error_code::invalid_topic, "no"), "");
  EXPECT_EQ(encode_pong_frame(to, 123), "");
  EXPECT_EQ(encode_system_frame(wire_format::relay, R"({"msg":"hi"})", "notice"), "");
  // The same requests in a client's format do produce frames.
  reply_to json_to{wire_format::json, 7, {}};
  EXPECT_FALSE(encode_ack_frames(json_to, client_op::subscribe, topics, topics).empty());
  EXPECT_NE(encode_pong_frame(json_to, 123), "");
}
