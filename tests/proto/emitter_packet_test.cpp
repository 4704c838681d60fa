// Socket.IO Redis emitter / adapter messages, built as @socket.io/redis-emitter
// builds them ([uid, packet, opts] in msgpack), decoded into the
// publications that deliver them.
#include "proto/emitter_packet.hpp"

#include <functional>
#include <limits>
#include <optional>

#include <gtest/gtest.h>

#include <msgpack.hpp>

#include "proto/dialect_settings.hpp"
#include "proto/frame_codec.hpp"

using namespace tickgate;

namespace {

using packer = msgpack::packer<msgpack::sbuffer>;

void pack_strings(packer& pk, const std::vector<std::string>& items) {
  pk.pack_array(static_cast<uint32_t>(items.size()));
  for (auto& s : items)
    pk.pack(s);
}

// An emitter message; `pack_args` writes the arguments after the event name.
std::string message(std::string_view nsp, std::string_view event, uint32_t argc,
                    const std::function<void(packer&)>& pack_args,
                    std::vector<std::string> rooms = {}, std::vector<std::string> except = {},
                    uint64_t type = 2) {
  msgpack::sbuffer buf;
  packer pk{buf};
  pk.pack_array(3);
  pk.pack(std::string{"emitter"});
  pk.pack_map(3);
  pk.pack(std::string{"type"});
  pk.pack(type);
  pk.pack(std::string{"data"});
  pk.pack_array(1 + argc);
  pk.pack(std::string{event});
  pack_args(pk);
  pk.pack(std::string{"nsp"});
  pk.pack(std::string{nsp});
  pk.pack_map(3);
  pk.pack(std::string{"rooms"});
  pack_strings(pk, rooms);
  pk.pack(std::string{"flags"});
  pk.pack_map(0);
  pk.pack(std::string{"except"});
  pack_strings(pk, except);
  return {buf.data(), buf.size()};
}

std::string one_object_arg(std::vector<std::string> rooms = {}, std::vector<std::string> except = {}) {
  return message("/", "price_update", 1, [](packer& pk) {
    pk.pack_map(2);
    pk.pack(std::string{"symbol"});
    pk.pack(std::string{"BTC"});
    pk.pack(std::string{"price"});
    pk.pack(42.5);
  }, std::move(rooms), std::move(except));
}

emitter::emit decoded(const std::string& bytes) {
  auto out = emitter::decode(bytes);
  if (auto* why = std::get_if<emitter::skip>(&out)) {
    ADD_FAILURE() << "skipped: " << emitter::to_string(*why);
    return {};
  }
  return std::get<emitter::emit>(out);
}

std::optional<emitter::skip> skipped(const std::string& bytes) {
  auto out = emitter::decode(bytes);
  if (auto* why = std::get_if<emitter::skip>(&out))
    return *why;
  return std::nullopt;
}

std::vector<std::string> skip_list(const publication& p) {
  return p.skip_members_of ? *p.skip_members_of : std::vector<std::string>{};
}

std::string socketio_frame(const publication& p) {
  return encode_event_frame(wire_format{dialect::socketio},
                            event_fields_of(p.topic, 1, "E", p));
}

} // namespace

TEST(emitter_packet, a_room_emit_is_one_publication_to_the_room_topic) {
  auto pubs = emitter::publications(decoded(one_object_arg({"price:BTC"})), 7);
  ASSERT_EQ(pubs.size(), 1u);
  auto& p = *pubs[0];
  EXPECT_EQ(p.topic, "price:BTC");
  EXPECT_EQ(p.event, "price_update");
  EXPECT_EQ(p.payload, R"({"symbol":"BTC","price":42.5})");
  EXPECT_EQ(p.kind, payload_kind::json);
  EXPECT_EQ(p.ts_us, 7);
  EXPECT_FALSE(p.spread_args);
  EXPECT_EQ(p.skip_members_of, nullptr); // the common case costs the topic nothing
  EXPECT_EQ(socketio_frame(p), R"(42["price_update",{"symbol":"BTC","price":42.5}])");
}

TEST(emitter_packet, a_namespace_wide_emit_goes_to_the_namespace_topic) {
  auto pubs = emitter::publications(
    decoded(message("/prices", "tick", 1, [](packer& pk) { pk.pack(1); })), 0);
  ASSERT_EQ(pubs.size(), 1u);
  EXPECT_EQ(pubs[0]->topic, "nsp:/prices");
  EXPECT_EQ(pubs[0]->topic, emitter::namespace_topic("/prices"));
  EXPECT_EQ(pubs[0]->payload, "1");
}

TEST(emitter_packet, several_rooms_reach_each_member_once) {
  auto pubs = emitter::publications(decoded(one_object_arg({"price:A", "price:B", "price:A", "trade:C"})), 0);
  ASSERT_EQ(pubs.size(), 3u);
  EXPECT_EQ(pubs[0]->topic, "price:A");
  EXPECT_EQ(skip_list(*pubs[0]), std::vector<std::string>{});
  EXPECT_EQ(pubs[1]->topic, "price:B");
  EXPECT_EQ(skip_list(*pubs[1]), (std::vector<std::string>{"price:A"}));
  EXPECT_EQ(pubs[2]->topic, "trade:C");
  EXPECT_EQ(skip_list(*pubs[2]), (std::vector<std::string>{"price:A", "price:B"}));
}

TEST(emitter_packet, except_rooms_are_skipped_by_every_publication) {
  auto pubs = emitter::publications(decoded(one_object_arg({"price:A", "price:B"}, {"vip"})), 0);
  ASSERT_EQ(pubs.size(), 2u);
  EXPECT_EQ(skip_list(*pubs[0]), std::vector<std::string>{"vip"});
  EXPECT_EQ(skip_list(*pubs[1]), (std::vector<std::string>{"vip", "price:A"}));
  auto wide = emitter::publications(decoded(one_object_arg({}, {"vip", "bad room!"})), 0);
  ASSERT_EQ(wide.size(), 1u);
  EXPECT_EQ(wide[0]->topic, "nsp:/");
  // A name no topic can have has no members: nothing to skip for it.
  EXPECT_EQ(skip_list(*wide[0]), std::vector<std::string>{"vip"});
}

TEST(emitter_packet, several_arguments_are_spread_for_socketio_and_an_array_elsewhere) {
  auto bytes = message("/", "order.filled", 3, [](packer& pk) {
    pk.pack(std::string{"o-1"});
    pk.pack(3);
    pk.pack_nil();
  }, {"user:1"});
  auto e = decoded(bytes);
  EXPECT_EQ(e.arg_count, 3u);
  auto pubs = emitter::publications(std::move(e), 0);
  ASSERT_EQ(pubs.size(), 1u);
  EXPECT_TRUE(pubs[0]->spread_args);
  EXPECT_EQ(pubs[0]->payload, R"(["o-1",3,null])");
  EXPECT_EQ(socketio_frame(*pubs[0]), R"(42["order.filled","o-1",3,null])");
  EXPECT_EQ(encode_event_frame(wire_format::json, event_fields_of("user:1", 1, "E", *pubs[0])),
            encode_event_frame(wire_format::json,
                               event_fields{"user:1", 1, "E", 0, R"(["o-1",3,null])",
                                            payload_kind::json, false, "order.filled"}));
}

TEST(emitter_packet, an_emit_without_arguments_has_only_its_name) {
  auto pubs = emitter::publications(decoded(message("/", "ping", 0, [](packer&) {}, {"price:X"})), 0);
  ASSERT_EQ(pubs.size(), 1u);
  EXPECT_EQ(pubs[0]->payload, "[]");
  EXPECT_EQ(socketio_frame(*pubs[0]), R"(42["ping"])");
}

TEST(emitter_packet, values_read_as_json_reads_them) {
  auto e = decoded(message("/", "e", 1, [](packer& pk) {
    pk.pack_map(6);
    pk.pack(std::string{"neg"});
    pk.pack(-5);
    pk.pack(std::string{"big"});
    pk.pack(uint64_t{18446744073709551615u});
    pk.pack(std::string{"nan"});
    pk.pack(std::numeric_limits<double>::quiet_NaN());
    pk.pack(std::string{"esc"});
    pk.pack(std::string{"a\"b\n"});
    pk.pack(7); // an integer key, as JavaScript writes it
    pk.pack(true);
    pk.pack(std::string{"when"});
    // A msgpack timestamp (notepack's Date): 2024-05-01T12:00:00Z.
    char ts[4] = {0x66, 0x32, 0x2e, static_cast<char>(0xc0)};
    pk.pack_ext(4, -1);
    pk.pack_ext_body(ts, 4);
  }));
  EXPECT_EQ(e.args,
            R"([{"neg":-5,"big":18446744073709551615,"nan":null,"esc":"a\"b\n","7":true,"when":"2024-05-01T12:00:00.000Z"}])");
}

TEST(emitter_packet, binary_arguments_are_refused) {
  auto bytes = message("/", "file", 1, [](packer& pk) {
    pk.pack_bin(3);
    pk.pack_bin_body("abc", 3);
  });
  EXPECT_EQ(skipped(bytes), emitter::skip::binary);
  EXPECT_EQ(skipped(message("/", "file", 0, [](packer&) {}, {}, {}, 5)), emitter::skip::binary);
}

TEST(emitter_packet, what_a_gateway_cannot_act_on_is_skipped_with_its_reason) {
  EXPECT_EQ(skipped(message("/", "e", 0, [](packer&) {}, {}, {}, 0)), emitter::skip::not_event);
  EXPECT_EQ(skipped(message("/nowhere", "e", 0, [](packer&) {})), emitter::skip::nsp);
  EXPECT_EQ(skipped(message("/", std::string(200, 'e'), 0, [](packer&) {})), emitter::skip::event);
  // Only rooms no topic can be named: nobody to deliver to.
  EXPECT_TRUE(emitter::publications(decoded(one_object_arg({"no room!"})), 0).empty());
}

TEST(emitter_packet, malformed_messages_are_skipped_never_thrown) {
  auto good = one_object_arg({"price:A"});
  EXPECT_EQ(skipped(""), emitter::skip::malformed);
  EXPECT_EQ(skipped("{\"json\":true}"), emitter::skip::malformed);
  for (size_t n = 0; n < good.size(); ++n) // every truncation
    EXPECT_EQ(skipped(good.substr(0, n)), emitter::skip::malformed) << n;
  EXPECT_EQ(skipped(good + "x"), emitter::skip::malformed); // trailing bytes
  // A header announcing 2^32-1 elements in a few bytes.
  EXPECT_EQ(skipped(std::string{"\xdd\xff\xff\xff\xff", 5}), emitter::skip::malformed);
  // Nesting deeper than a packet needs.
  EXPECT_EQ(skipped(std::string(100, '\x91') + "\xc0"), emitter::skip::malformed);
  // Invalid UTF-8 in a string argument.
  EXPECT_EQ(skipped(message("/", "e", 1, [](packer& pk) { pk.pack(std::string{"\xff\xfe"}); })),
            emitter::skip::malformed);
  // The packet is not a map / data is not [name, ...].
  msgpack::sbuffer buf;
  packer pk{buf};
  pk.pack_array(3);
  pk.pack(std::string{"emitter"});
  pk.pack(1);
  pk.pack_map(0);
  EXPECT_EQ(skipped({buf.data(), buf.size()}), emitter::skip::malformed);
  EXPECT_EQ(decoded(good).rooms, std::vector<std::string>{"price:A"}); // the good one still decodes
}
