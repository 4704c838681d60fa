// The per-connection frame decoder as the session uses it: which dialect a
// frame is read in, what the client is greeted with, and in which format
// native replies go out.
#include <gtest/gtest.h>

#include "proto/frame_decoder.hpp"

using namespace tickgate;

namespace {

// The dialect the one frame `bytes` was decoded in (from its reply format).
dialect decoded_as(frame_decoder& d, std::string_view bytes, bool binary = false) {
  auto out = d.decode(bytes, binary);
  EXPECT_EQ(out.frames.size(), 1u);
  return std::visit([](auto& f) { return f.format.kind; }, out.frames.at(0));
}

decoder_options with_id(std::string id) {
  decoder_options o;
  o.session_id = std::move(id);
  return o;
}

} // namespace

TEST(frame_decoder, the_root_path_keeps_the_dialect_of_the_first_decidable_frame) {
  auto d = make_frame_decoder("auto", {});
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->on_open().empty());
  EXPECT_EQ(decoded_as(*d, "not json"), dialect::native); // answered as native, undecided
  EXPECT_EQ(decoded_as(*d, R"({"action":"ping"})"), dialect::action);
  // Decided: a native-looking frame is now read as an action frame (an error).
  auto out = d->decode(R"({"op":"ping","id":1})", false);
  ASSERT_EQ(out.frames.size(), 1u);
  auto* err = std::get_if<client_error>(&out.frames[0]);
  ASSERT_NE(err, nullptr);
  EXPECT_EQ(err->format.kind, dialect::action);
}

TEST(frame_decoder, each_root_path_connection_decides_for_itself) {
  auto a = make_frame_decoder("auto", {});
  auto b = make_frame_decoder("auto", {});
  EXPECT_EQ(decoded_as(*a, R"({"method":"LIST_SUBSCRIPTIONS","id":1})"), dialect::stream);
  EXPECT_EQ(decoded_as(*b, R"({"type":"ping"})"), dialect::typed);
  EXPECT_EQ(decoded_as(*a, R"({"type":"ping"})"), dialect::stream);
}

TEST(frame_decoder, the_typed_envelope_greets_once_with_the_client_id) {
  auto d = make_frame_decoder("typed", with_id("0123456789abcdef"));
  ASSERT_TRUE(d);
  auto hello = d->on_open();
  ASSERT_EQ(hello.size(), 1u);
  EXPECT_NE(hello[0].find(R"("clientId":"0123456789abcdef")"), std::string::npos) << hello[0];
  EXPECT_TRUE(d->on_open().empty());
  EXPECT_EQ(decoded_as(*d, R"({"type":"ping"})"), dialect::typed);
}

TEST(frame_decoder, a_subprotocol_chosen_format_applies_to_native_frames_only) {
  decoder_options o;
  o.forced = wire_format::proto;
  auto native = make_frame_decoder("native", o);
  auto out = native->decode(R"({"op":"ping","id":1})", false);
  ASSERT_EQ(out.frames.size(), 1u);
  EXPECT_TRUE(std::visit([](auto& f) { return f.format.binary; }, out.frames[0]));
  // The root path: native answers (undecided, then decided) take it too.
  auto root_native = make_frame_decoder("auto", o);
  for (auto frame : {"not json", R"({"op":"ping","id":1})", R"({"op":"ping","id":2})"}) {
    auto answer = root_native->decode(frame, false);
    ASSERT_EQ(answer.frames.size(), 1u);
    EXPECT_TRUE(std::visit([](auto& f) { return f.format.binary; }, answer.frames[0])) << frame;
  }
  auto root = make_frame_decoder("auto", o);
  auto action = root->decode(R"({"action":"ping"})", false);
  EXPECT_FALSE(std::visit([](auto& f) { return f.format.binary; }, action.frames.at(0)));
  EXPECT_EQ(decoded_as(*root, R"({"action":"ping"})"), dialect::action);
}

TEST(frame_decoder, an_unknown_dialect_has_no_decoder) {
  EXPECT_EQ(make_frame_decoder("carrier-pigeon", {}), nullptr);
  EXPECT_FALSE(is_known_dialect("carrier-pigeon"));
  EXPECT_TRUE(is_known_dialect("auto"));
}
