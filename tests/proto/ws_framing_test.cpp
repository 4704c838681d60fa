#include "proto/ws_framing.hpp"

#include <gtest/gtest.h>

#include <string>

namespace tickgate {
namespace {

// A client frame: masked with a fixed key, FIN and opcode as given.
std::string client_frame(uint8_t first_byte, std::string_view payload,
                         bool masked = true) {
  std::string out;
  out.push_back(static_cast<char>(first_byte));
  auto n = payload.size();
  uint8_t mask_bit = masked ? 0x80 : 0;
  if (n < 126) {
    out.push_back(static_cast<char>(mask_bit | n));
  } else if (n < 65536) {
    out.push_back(static_cast<char>(mask_bit | 126));
    out.push_back(static_cast<char>(n >> 8));
    out.push_back(static_cast<char>(n & 0xFF));
  } else {
    out.push_back(static_cast<char>(mask_bit | 127));
    for (int i = 7; i >= 0; --i)
      out.push_back(static_cast<char>((uint64_t{n} >> (8 * i)) & 0xFF));
  }
  const char key[4] = {0x12, 0x34, 0x56, 0x78};
  if (masked)
    out.append(key, 4);
  for (size_t i = 0; i < n; ++i)
    out.push_back(static_cast<char>(payload[i] ^ (masked ? key[i % 4] : 0)));
  return out;
}

std::string text(std::string_view p) { return client_frame(0x81, p); }

struct decoded {
  std::vector<ws_event> events;
  std::vector<std::string> payloads;
  size_t used = 0;
};

decoded decode_all(ws_reader& r, std::string bytes) {
  decoded d;
  while (d.used < bytes.size()) {
    ws_event ev;
    auto n = r.next(bytes.data() + d.used, bytes.size() - d.used, ev);
    if (n == 0)
      break;
    d.used += n;
    if (ev.what != ws_event::kind::none) {
      d.events.push_back(ev);
      d.payloads.emplace_back(ev.payload);
    }
  }
  return d;
}

TEST(ws_framing, unmasks_a_text_message_in_one_frame) {
  ws_reader r{1024};
  auto d = decode_all(r, text(R"({"op":"ping"})"));
  ASSERT_EQ(d.events.size(), 1u);
  EXPECT_EQ(d.events[0].what, ws_event::kind::message);
  EXPECT_FALSE(d.events[0].binary);
  EXPECT_EQ(d.payloads[0], R"({"op":"ping"})");
}

TEST(ws_framing, waits_for_the_rest_of_a_frame_that_arrives_byte_by_byte) {
  ws_reader r{100000};
  std::string payload(70000, 'x'); // 64-bit length form
  auto bytes = client_frame(0x82, payload);
  std::string buf;
  for (size_t i = 0; i + 1 < bytes.size(); i += 997) {
    buf = bytes.substr(0, i);
    ws_event ev;
    EXPECT_EQ(r.next(buf.data(), buf.size(), ev), 0u);
    EXPECT_FALSE(r.failed());
  }
  auto d = decode_all(r, bytes);
  ASSERT_EQ(d.events.size(), 1u);
  EXPECT_TRUE(d.events[0].binary);
  EXPECT_EQ(d.payloads[0], payload);
}

TEST(ws_framing, decodes_several_frames_from_one_read) {
  ws_reader r{1024};
  auto d = decode_all(r, text("a") + text(std::string(200, 'b')) + client_frame(0x89, "hi")
                           + client_frame(0x8A, ""));
  ASSERT_EQ(d.events.size(), 4u);
  EXPECT_EQ(d.payloads[1], std::string(200, 'b'));
  EXPECT_EQ(d.events[2].what, ws_event::kind::ping);
  EXPECT_EQ(d.payloads[2], "hi");
  EXPECT_EQ(d.events[3].what, ws_event::kind::pong);
}

TEST(ws_framing, reassembles_fragments_with_a_ping_in_between) {
  ws_reader r{1024};
  auto d = decode_all(r, client_frame(0x01, "{\"op\":") + client_frame(0x89, "p")
                           + client_frame(0x00, "\"ping\"") + client_frame(0x80, "}"));
  ASSERT_EQ(d.events.size(), 2u);
  EXPECT_EQ(d.events[0].what, ws_event::kind::ping);
  EXPECT_EQ(d.events[1].what, ws_event::kind::message);
  EXPECT_EQ(d.payloads[1], R"({"op":"ping"})");
}

TEST(ws_framing, reads_the_close_code_and_reason) {
  ws_reader r{1024};
  auto d = decode_all(r, client_frame(0x88, std::string{"\x03\xE8"} + "bye"));
  ASSERT_EQ(d.events.size(), 1u);
  EXPECT_EQ(d.events[0].what, ws_event::kind::close);
  EXPECT_EQ(d.events[0].code, 1000);
  EXPECT_EQ(d.payloads[0], "bye");
  ws_reader empty{1024};
  auto e = decode_all(empty, client_frame(0x88, ""));
  ASSERT_EQ(e.events.size(), 1u);
  EXPECT_EQ(e.events[0].code, 0);
}

void expect_failure(std::string bytes, uint16_t code, size_t max = 1024) {
  ws_reader r{max};
  decode_all(r, std::move(bytes));
  EXPECT_TRUE(r.failed());
  EXPECT_EQ(r.error_code(), code) << r.error_reason();
  // A failed reader stays failed.
  auto more = text("ok");
  ws_event ev;
  EXPECT_EQ(r.next(more.data(), more.size(), ev), 0u);
}

TEST(ws_framing, refuses_unmasked_client_frames) {
  expect_failure(client_frame(0x81, "x", false), 1002);
}

TEST(ws_framing, refuses_reserved_bits_and_unknown_opcodes) {
  expect_failure(client_frame(0xC1, "x"), 1002);
  expect_failure(client_frame(0x83, "x"), 1002);
  expect_failure(client_frame(0x8B, "x"), 1002);
}

TEST(ws_framing, refuses_bad_control_frames) {
  expect_failure(client_frame(0x09, "x"), 1002);               // fragmented ping
  expect_failure(client_frame(0x89, std::string(126, 'x')), 1002); // too long
  expect_failure(client_frame(0x88, "x"), 1002);               // one-byte close
  expect_failure(client_frame(0x88, std::string{"\x03\xED"}), 1002); // 1005 may not be sent
}

TEST(ws_framing, refuses_broken_fragmentation) {
  expect_failure(client_frame(0x80, "x"), 1002);                          // continuation first
  expect_failure(client_frame(0x01, "a") + client_frame(0x81, "b"), 1002); // new message inside
}

TEST(ws_framing, refuses_a_non_minimal_length) {
  std::string f{"\x81\xFE\x00\x05", 4};
  f += std::string{"\x00\x00\x00\x00", 4} + "hello";
  expect_failure(f, 1002);
}

TEST(ws_framing, refuses_an_oversize_message_from_its_header_alone) {
  auto big = client_frame(0x82, std::string(2000, 'x'));
  ws_reader r{1024};
  ws_event ev;
  EXPECT_EQ(r.next(big.data(), 8, ev), 0u); // only the header has arrived
  EXPECT_TRUE(r.failed());
  EXPECT_EQ(r.error_code(), 1009);
  // Fragments count together.
  expect_failure(client_frame(0x02, std::string(600, 'x')) + client_frame(0x80, std::string(600, 'y')),
                 1009);
}

TEST(ws_framing, refuses_text_that_is_not_utf8) {
  expect_failure(text("\xC3\x28"), 1007);
  expect_failure(client_frame(0x01, "\xE2\x82") + client_frame(0x80, "\x28"), 1007);
  // Split multi-byte characters across fragments are fine.
  ws_reader r{1024};
  auto d = decode_all(r, client_frame(0x01, "\xE2\x82") + client_frame(0x80, "\xAC"));
  ASSERT_EQ(d.events.size(), 1u);
  EXPECT_EQ(d.payloads[0], "\xE2\x82\xAC");
}

TEST(ws_framing, server_frames_use_the_shortest_length_form) {
  for (size_t n : {0u, 125u, 126u, 65535u, 65536u}) {
    std::string out;
    append_ws_frame(out, ws_opcode::text, std::string(n, 'x'));
    EXPECT_EQ(out.size(), ws_header_size(n) + n);
    EXPECT_EQ(static_cast<uint8_t>(out[0]), 0x81);
    auto len7 = static_cast<uint8_t>(out[1]);
    EXPECT_EQ(len7 & 0x80, 0) << "server frames are not masked";
    EXPECT_EQ(len7, n < 126 ? n : n < 65536 ? 126u : 127u);
  }
}

TEST(ws_framing, close_frames_fit_125_bytes_without_splitting_a_character) {
  std::string reason;
  for (int i = 0; i < 60; ++i)
    reason += "\xC3\xA9"; // é, 2 bytes each: 120 bytes
  reason += "abc\xE2\x82\xAC"; // 127 bytes in all
  std::string out;
  append_ws_close(out, 1008, reason);
  ASSERT_LE(out.size(), 2u + 125u);
  EXPECT_EQ(static_cast<uint8_t>(out[0]), 0x88);
  EXPECT_EQ(static_cast<uint8_t>(out[2]), 1008 >> 8);
  EXPECT_EQ(static_cast<uint8_t>(out[3]), 1008 & 0xFF);
  EXPECT_EQ(out.substr(4), reason.substr(0, 123)); // the euro sign would not fit: cut before it
}

} // namespace
} // namespace tickgate
