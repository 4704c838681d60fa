#include "proto/native_codec.hpp"

#include <gtest/gtest.h>

#include "proto/topic_name.hpp"
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

TEST(native_codec_encode, event_json_names_the_event_when_the_publisher_did) {
  event_fields ev{"orders:7", 3, "e", 5, R"({"id":7})", payload_kind::json, false, "order.filled"};
  EXPECT_EQ(encode_event(wire_format::json, ev),
            R"({"type":"event","topic":"orders:7","seq":3,"epoch":"e","ts":5,)"
            R"("event":"order.filled","data":{"id":7}})");
  ev.event = "say \"hi\"";
  EXPECT_NE(encode_event(wire_format::json, ev).find(R"("event":"say \"hi\"")"), std::string::npos);
  v1::ServerFrame f;
  ev.event = "order.update";
  ASSERT_TRUE(f.ParseFromString(encode_event(wire_format::proto, ev)));
  EXPECT_EQ(f.event().event(), "order.update");
}

TEST(payload, event_names_are_short_printable_utf8) {
  EXPECT_TRUE(is_valid_event_name("order.filled"));
  EXPECT_TRUE(is_valid_event_name("prix \u00e9t\u00e9"));
  EXPECT_TRUE(is_valid_event_name(std::string(max_event_name_length, 'e')));
  EXPECT_FALSE(is_valid_event_name(""));
  EXPECT_FALSE(is_valid_event_name(std::string(max_event_name_length + 1, 'e')));
  EXPECT_FALSE(is_valid_event_name("a\nb"));
  EXPECT_FALSE(is_valid_event_name(std::string_view("\xff\xfe", 2)));
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

// -- subscribe options (since / last / snapshot / throttle_ms) ---------------

TEST(native_codec_json, reads_since_last_snapshot_and_throttle_on_subscribe) {
  auto cmd = as_command(decode_client_frame(
    R"({"op":"subscribe","id":1,"topics":["trade@AAPL","depth@AAPL"],)"
    R"("since":{"depth@AAPL":{"epoch":"n1-7","seq":60},"trade@AAPL":{"epoch":"n1-3","seq":0}},)"
    R"("last":5,"throttle_ms":100})",
    false));
  EXPECT_EQ(cmd.options.last, 5u);
  EXPECT_EQ(cmd.options.throttle_ms, 100u);
  EXPECT_FALSE(cmd.options.snapshot);
  // Kept in the order of the request's topics.
  using entry = std::pair<std::string, stream_position>;
  EXPECT_EQ(cmd.options.since, (std::vector<entry>{{"trade@AAPL", {"n1-3", 0}},
                                                   {"depth@AAPL", {"n1-7", 60}}}));
  auto snap = as_command(decode_client_frame(
    R"({"op":"subscribe","topics":["depth@AAPL"],"snapshot":true})", false));
  EXPECT_TRUE(snap.options.snapshot);
  EXPECT_EQ(snap.options.last, 0u);
}

TEST(native_codec_json, a_subscribe_without_options_has_empty_options) {
  auto cmd = as_command(decode_client_frame(
    R"({"op":"subscribe","topics":["t"],"snapshot":false,"since":{}})", false));
  EXPECT_TRUE(cmd.options.empty());
}

TEST(native_codec_json, accepts_the_bounds_of_last_and_throttle_ms) {
  auto low = as_command(decode_client_frame(
    R"({"op":"subscribe","topics":["t"],"last":1,"throttle_ms":10})", false));
  EXPECT_EQ(low.options.last, 1u);
  EXPECT_EQ(low.options.throttle_ms, 10u);
  auto high = as_command(decode_client_frame(
    R"({"op":"subscribe","topics":["t"],"last":10000,"throttle_ms":60000})", false));
  EXPECT_EQ(high.options.last, max_last_events);
  EXPECT_EQ(high.options.throttle_ms, max_throttle_ms);
}

TEST(native_codec_json, since_may_name_a_duplicated_topic_once) {
  auto cmd = as_command(decode_client_frame(
    R"({"op":"subscribe","topics":["a","a"],"since":{"a":{"epoch":"e","seq":18446744073709551615}}})",
    false));
  ASSERT_EQ(cmd.options.since.size(), 1u);
  EXPECT_EQ(cmd.options.since[0].second.seq, UINT64_MAX);
}

TEST(native_codec_json, refuses_out_of_range_options_naming_the_field) {
  auto message = [](std::string_view frame) {
    auto err = json_error(frame);
    EXPECT_EQ(err.code, error_code::bad_request) << frame;
    return err.message;
  };
  auto sub = [](std::string_view options) {
    return R"({"op":"subscribe","id":4,"topics":["t"],)" + std::string{options} + "}";
  };
  for (auto bad : {R"("last":0)", R"("last":10001)", R"("last":-1)", R"("last":2.5)",
                   R"("last":"5")", R"("last":null)"})
    EXPECT_EQ(message(sub(bad)), "'last' must be an integer from 1 to 10000") << bad;
  for (auto bad : {R"("throttle_ms":9)", R"("throttle_ms":60001)", R"("throttle_ms":0)",
                   R"("throttle_ms":"100")", R"("throttle_ms":100.5)"})
    EXPECT_EQ(message(sub(bad)), "'throttle_ms' must be an integer from 10 to 60000") << bad;
  for (auto bad : {R"("snapshot":1)", R"("snapshot":"true")", R"("snapshot":null)"})
    EXPECT_EQ(message(sub(bad)), "'snapshot' must be true or false") << bad;
  EXPECT_EQ(message(sub(R"("last":3,"snapshot":true)")),
            "last and snapshot exclude each other");
  EXPECT_EQ(json_error(sub(R"("last":0)")).id, 4u);
}

TEST(native_codec_json, refuses_malformed_since_entries_naming_topic_and_field) {
  auto message = [](std::string_view since) {
    auto err = json_error(R"({"op":"subscribe","topics":["t","u"],"since":)" + std::string{since}
                          + "}");
    EXPECT_EQ(err.code, error_code::bad_request) << since;
    return err.message;
  };
  EXPECT_EQ(message("[]"), R"('since' must be an object {"<topic>":{"epoch":"E","seq":S},...})");
  EXPECT_EQ(message(R"({"t":5})"), R"('since' entry 't' must be an object {"epoch":"E","seq":S})");
  EXPECT_EQ(message(R"({"t":{"seq":1}})"),
            "'since' entry 't': 'epoch' must be a string of at most 64 bytes");
  EXPECT_EQ(message(R"({"t":{"epoch":7,"seq":1}})"),
            "'since' entry 't': 'epoch' must be a string of at most 64 bytes");
  EXPECT_EQ(message(R"({"t":{"epoch":")" + std::string(65, 'e') + R"(","seq":1}})"),
            "'since' entry 't': 'epoch' must be a string of at most 64 bytes");
  EXPECT_EQ(message(R"({"u":{"epoch":"e"}})"), "'since' entry 'u': 'seq' must be a non-negative integer");
  EXPECT_EQ(message(R"({"u":{"epoch":"e","seq":-1}})"),
            "'since' entry 'u': 'seq' must be a non-negative integer");
  EXPECT_EQ(message(R"({"u":{"epoch":"e","seq":"1"}})"),
            "'since' entry 'u': 'seq' must be a non-negative integer");
  EXPECT_EQ(message(R"({"v":{"epoch":"e","seq":1}})"),
            "'since' names 'v', which is not one of the request's topics");
  EXPECT_EQ(message(R"({"t":{"epoch":"e","seq":1},"t":{"epoch":"f","seq":2}})"),
            "'since' gives 't' more than one position");
  // The longest epoch passes.
  as_command(decode_client_frame(R"({"op":"subscribe","topics":["t"],"since":{"t":{"epoch":")"
                                   + std::string(64, 'e') + R"(","seq":1}}})",
                                 false));
}

TEST(native_codec_json, refuses_subscribe_options_on_other_operations) {
  for (auto frame : {R"({"op":"unsubscribe","topics":["t"],"last":1})",
                     R"({"op":"ping","snapshot":false})",
                     R"({"op":"auth","token":"x","throttle_ms":100})",
                     R"({"op":"unsubscribe","topics":["t"],"since":{}})"}) {
    auto err = json_error(frame);
    EXPECT_EQ(err.code, error_code::bad_request) << frame;
    EXPECT_NE(err.message.find("is only valid with op subscribe"), std::string::npos)
      << err.message;
  }
}

TEST(native_codec_proto, decodes_the_subscribe_options) {
  v1::ClientFrame f;
  auto* s = f.mutable_subscribe();
  s->add_topics("trade@AAPL");
  s->add_topics("depth@AAPL");
  v1::Position pos;
  pos.set_epoch("n1-3");
  pos.set_seq(60);
  (*s->mutable_since())["depth@AAPL"] = pos;
  s->set_last(7);
  s->set_throttle_ms(1000);
  auto cmd = as_command(decode_client_frame(f.SerializeAsString(), true));
  using entry = std::pair<std::string, stream_position>;
  EXPECT_EQ(cmd.options.since, (std::vector<entry>{{"depth@AAPL", {"n1-3", 60}}}));
  EXPECT_EQ(cmd.options.last, 7u);
  EXPECT_EQ(cmd.options.throttle_ms, 1000u);
  EXPECT_FALSE(cmd.options.snapshot);

  v1::ClientFrame g;
  g.mutable_subscribe()->add_topics("t");
  g.mutable_subscribe()->set_snapshot(true);
  EXPECT_TRUE(as_command(decode_client_frame(g.SerializeAsString(), true)).options.snapshot);
}

TEST(native_codec_proto, refuses_the_same_options_as_json) {
  auto refused = [](auto edit) {
    v1::ClientFrame f;
    f.set_id(3);
    f.mutable_subscribe()->add_topics("t");
    edit(*f.mutable_subscribe());
    auto err = as_error(decode_client_frame(f.SerializeAsString(), true));
    EXPECT_EQ(err.code, error_code::bad_request);
    EXPECT_EQ(err.format, wire_format::proto);
    EXPECT_EQ(err.id, 3u);
    return err.message;
  };
  EXPECT_EQ(refused([](v1::Subscribe& s) { s.set_last(10001); }),
            "'last' must be an integer from 1 to 10000");
  EXPECT_EQ(refused([](v1::Subscribe& s) { s.set_throttle_ms(9); }),
            "'throttle_ms' must be an integer from 10 to 60000");
  EXPECT_EQ(refused([](v1::Subscribe& s) { s.set_throttle_ms(60001); }),
            "'throttle_ms' must be an integer from 10 to 60000");
  EXPECT_EQ(refused([](v1::Subscribe& s) {
              s.set_last(1);
              s.set_snapshot(true);
            }),
            "last and snapshot exclude each other");
  EXPECT_EQ(refused([](v1::Subscribe& s) { (*s.mutable_since())["other"].set_seq(1); }),
            "'since' names 'other', which is not one of the request's topics");
  EXPECT_EQ(refused([](v1::Subscribe& s) {
              (*s.mutable_since())["t"].set_epoch(std::string(65, 'e'));
            }),
            "'since' entry 't': 'epoch' must be a string of at most 64 bytes");
}

TEST(native_codec_encode, event_json_marks_snapshots_only) {
  event_fields ev{"depth@AAPL", 9, "e", 5, R"({"b":[]})", payload_kind::json, true};
  EXPECT_EQ(encode_event(wire_format::json, ev),
            R"({"type":"event","topic":"depth@AAPL","seq":9,"epoch":"e","ts":5,"snapshot":true,"data":{"b":[]}})");
  ev.snapshot = false;
  EXPECT_EQ(encode_event(wire_format::json, ev).find("snapshot"), std::string::npos);
  v1::ServerFrame f;
  ev.snapshot = true;
  ASSERT_TRUE(f.ParseFromString(encode_event(wire_format::proto, ev)));
  EXPECT_TRUE(f.event().snapshot());
  ev.snapshot = false;
  ASSERT_TRUE(f.ParseFromString(encode_event(wire_format::proto, ev)));
  EXPECT_FALSE(f.event().snapshot());
}

TEST(native_codec_encode, subscribe_ack_json_carries_positions_and_recovered) {
  std::vector<std::string> topics{"trade@AAPL", "depth@AAPL"};
  std::vector<topic_position> positions{{"trade@AAPL", "E", 57, true},
                                        {"depth@AAPL", "F", 0, std::nullopt}};
  EXPECT_EQ(encode_ack(wire_format::json, 1, client_op::subscribe, topics, positions),
            R"({"type":"ack","id":1,"op":"subscribe","topics":["trade@AAPL","depth@AAPL"],)"
            R"("positions":{"trade@AAPL":{"epoch":"E","seq":57},"depth@AAPL":{"epoch":"F","seq":0}},)"
            R"("recovered":{"trade@AAPL":true}})");
  positions[0].recovered = false;
  EXPECT_NE(encode_ack(wire_format::json, 1, client_op::subscribe, topics, positions)
              .find(R"("recovered":{"trade@AAPL":false}})"),
            std::string::npos);
  // Without any `since`, no "recovered"; without positions, the old shape.
  positions[0].recovered.reset();
  EXPECT_EQ(encode_ack(wire_format::json, 1, client_op::subscribe, topics, positions)
              .find("recovered"),
            std::string::npos);
  EXPECT_EQ(encode_ack(wire_format::json, 1, client_op::subscribe, topics, {}),
            R"({"type":"ack","id":1,"op":"subscribe","topics":["trade@AAPL","depth@AAPL"]})");
}

TEST(native_codec_encode, ack_position_names_and_epochs_are_escaped) {
  std::vector<topic_position> positions{{"a\"b", "e\\1", 1, false}};
  auto ack = encode_ack(wire_format::json, std::nullopt, client_op::subscribe,
                        std::vector<std::string>{"a\"b"}, positions);
  EXPECT_EQ(ack, R"({"type":"ack","op":"subscribe","topics":["a\"b"],)"
                 R"("positions":{"a\"b":{"epoch":"e\\1","seq":1}},"recovered":{"a\"b":false}})");
  EXPECT_EQ(classify_payload(ack), payload_kind::json);
}

TEST(native_codec_encode, subscribe_ack_proto_round_trips_positions_and_recovered) {
  std::vector<topic_position> positions{{"trade@AAPL", "E", 57, true},
                                        {"depth@AAPL", "F", 3, false},
                                        {"ticker@AAPL", "G", 0, std::nullopt}};
  v1::ServerFrame f;
  ASSERT_TRUE(f.ParseFromString(encode_ack(wire_format::proto, 2, client_op::subscribe,
                                           std::vector<std::string>{"trade@AAPL", "depth@AAPL",
                                                                    "ticker@AAPL"},
                                           positions)));
  auto& ack = f.ack();
  ASSERT_EQ(ack.positions_size(), 3);
  EXPECT_EQ(ack.positions().at("trade@AAPL").epoch(), "E");
  EXPECT_EQ(ack.positions().at("trade@AAPL").seq(), 57u);
  EXPECT_EQ(ack.positions().at("depth@AAPL").seq(), 3u);
  EXPECT_EQ(ack.positions().at("ticker@AAPL").epoch(), "G");
  ASSERT_EQ(ack.recovered_size(), 2);
  EXPECT_TRUE(ack.recovered().at("trade@AAPL"));
  EXPECT_FALSE(ack.recovered().at("depth@AAPL"));
  EXPECT_EQ(ack.recovered().count("ticker@AAPL"), 0u);
  ASSERT_TRUE(f.ParseFromString(encode_ack(wire_format::proto, 2, client_op::unsubscribe,
                                           std::vector<std::string>{"x"}, positions)));
  EXPECT_EQ(f.ack().positions_size(), 0); // only subscribes carry positions
}

TEST(native_codec_proto, subscribe_options_round_trip_through_protobuf) {
  // A client's protobuf frame with every new field decodes to what the JSON
  // frame with the same fields decodes to.
  v1::ClientFrame f;
  f.set_id(11);
  auto* s = f.mutable_subscribe();
  s->add_topics("a");
  s->add_topics("b");
  (*s->mutable_since())["b"].set_epoch("eb");
  (*s->mutable_since())["b"].set_seq(2);
  (*s->mutable_since())["a"].set_epoch("ea");
  (*s->mutable_since())["a"].set_seq(1);
  s->set_snapshot(true);
  s->set_throttle_ms(250);
  v1::ClientFrame parsed;
  ASSERT_TRUE(parsed.ParseFromString(f.SerializeAsString()));
  EXPECT_EQ(parsed.subscribe().since().at("a").epoch(), "ea");
  EXPECT_EQ(parsed.subscribe().throttle_ms(), 250u);
  auto from_proto = as_command(decode_client_frame(f.SerializeAsString(), true));
  auto from_json = as_command(decode_client_frame(
    R"({"op":"subscribe","id":11,"topics":["a","b"],"since":{"b":{"epoch":"eb","seq":2},)"
    R"("a":{"epoch":"ea","seq":1}},"snapshot":true,"throttle_ms":250})",
    false));
  EXPECT_EQ(from_proto.options.since, from_json.options.since);
  EXPECT_EQ(from_proto.options.snapshot, from_json.options.snapshot);
  EXPECT_EQ(from_proto.options.throttle_ms, from_json.options.throttle_ms);
  EXPECT_EQ(from_proto.options.last, from_json.options.last);
}

TEST(native_codec_json, accepts_system_topics_and_nothing_else_with_a_dollar) {
  auto cmd = as_command(decode_client_frame(R"({"op":"subscribe","topics":["$sys:stats"]})", false));
  EXPECT_EQ(cmd.topics, (std::vector<std::string>{"$sys:stats"}));
  EXPECT_EQ(json_error(R"({"op":"subscribe","topics":["$sys:"]})").code, error_code::invalid_topic);
  EXPECT_EQ(json_error(R"({"op":"subscribe","topics":["$stats"]})").code, error_code::invalid_topic);
  EXPECT_EQ(json_error(R"({"op":"subscribe","topics":["trade$sys:x"]})").code,
            error_code::invalid_topic);
  EXPECT_TRUE(is_system_topic("$sys:stats"));
  EXPECT_FALSE(is_valid_topic("$sys:stats")); // so no publish path takes it
  EXPECT_FALSE(is_system_topic("$sys:a b"));
  EXPECT_FALSE(is_system_topic("$sys:" + std::string(124, 'x')));
}
