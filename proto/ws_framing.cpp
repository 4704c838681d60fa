#include "proto/ws_framing.hpp"

#include <cstring>

#include <simdjson.h>

namespace tickgate {

namespace {

uint8_t byte_at(const char* p, size_t i) {
  return static_cast<uint8_t>(p[i]);
}

// XORs `n` bytes with the 4-byte key, eight bytes at a time where it can.
void unmask(char* p, size_t n, const char* key) {
  uint8_t k[4];
  std::memcpy(k, key, 4);
  uint64_t k8;
  uint8_t k8b[8] = {k[0], k[1], k[2], k[3], k[0], k[1], k[2], k[3]};
  std::memcpy(&k8, k8b, 8);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    w ^= k8;
    std::memcpy(p + i, &w, 8);
  }
  for (; i < n; ++i)
    p[i] = static_cast<char>(static_cast<uint8_t>(p[i]) ^ k[i & 3]);
}

} // namespace

size_t ws_reader::fail(uint16_t code, const char* reason) {
  error_code_ = code;
  error_reason_ = reason;
  in_message_ = false;
  fragments_.clear();
  return 0;
}

size_t ws_reader::next(char* data, size_t size, ws_event& ev) {
  ev = ws_event{};
  if (failed() || size < 2)
    return 0;
  auto b0 = byte_at(data, 0);
  auto b1 = byte_at(data, 1);
  bool fin = (b0 & 0x80) != 0;
  auto op = static_cast<uint8_t>(b0 & 0x0F);
  if ((b0 & 0x70) != 0)
    return fail(1002, "reserved bits set without an extension");
  if ((b1 & 0x80) == 0)
    return fail(1002, "client frames must be masked");
  uint64_t len = b1 & 0x7F;
  size_t header = 2;
  if (len == 126) {
    if (size < 4)
      return 0;
    len = (uint64_t{byte_at(data, 2)} << 8) | byte_at(data, 3);
    header = 4;
    if (len < 126)
      return fail(1002, "frame length not minimally encoded");
  } else if (len == 127) {
    if (size < 10)
      return 0;
    len = 0;
    for (size_t i = 2; i < 10; ++i)
      len = (len << 8) | byte_at(data, i);
    header = 10;
    if ((len >> 63) != 0)
      return fail(1002, "frame length out of range");
    if (len < 65536)
      return fail(1002, "frame length not minimally encoded");
  }
  header += 4; // the masking key
  if (op >= 0x8) {
    if (op != 0x8 && op != 0x9 && op != 0xA)
      return fail(1002, "unknown control opcode");
    if (!fin)
      return fail(1002, "fragmented control frame");
    if (len > 125)
      return fail(1002, "control frame longer than 125 bytes");
  } else {
    if (op > 0x2)
      return fail(1002, "unknown data opcode");
    if (op == 0x0 && !in_message_)
      return fail(1002, "continuation frame without a message");
    if (op != 0x0 && in_message_)
      return fail(1002, "new message inside a fragmented message");
    // Refuse before buffering: a huge length costs nothing but these bytes.
    size_t already = op == 0x0 ? fragments_.size() : 0;
    if (len > max_message_ || already + len > max_message_)
      return fail(1009, "message too big");
  }
  if (size < header || size - header < len)
    return 0;
  char* payload = data + header;
  unmask(payload, static_cast<size_t>(len), data + header - 4);
  size_t used = header + static_cast<size_t>(len);
  std::string_view body{payload, static_cast<size_t>(len)};

  switch (op) {
    case 0x8: {
      if (len == 1)
        return fail(1002, "close frame with a one-byte payload");
      ev.what = ws_event::kind::close;
      if (len >= 2) {
        ev.code = static_cast<uint16_t>((byte_at(payload, 0) << 8) | byte_at(payload, 1));
        if (!is_valid_close_code(ev.code))
          return fail(1002, "invalid close code");
        ev.payload = body.substr(2);
        if (!simdjson::validate_utf8(ev.payload.data(), ev.payload.size()))
          return fail(1007, "close reason is not valid UTF-8");
      }
      return used;
    }
    case 0x9:
      ev.what = ws_event::kind::ping;
      ev.payload = body;
      return used;
    case 0xA:
      ev.what = ws_event::kind::pong;
      ev.payload = body;
      return used;
    default:
      break;
  }

  if (fin && op != 0x0) { // the common case: a whole message in one frame
    if (op == 0x1 && !simdjson::validate_utf8(body.data(), body.size()))
      return fail(1007, "text message is not valid UTF-8");
    ev.what = ws_event::kind::message;
    ev.binary = op == 0x2;
    ev.payload = body;
    return used;
  }
  if (op != 0x0) {
    in_message_ = true;
    message_binary_ = op == 0x2;
    fragments_.assign(body);
  } else {
    fragments_.append(body);
  }
  if (!fin)
    return used;
  in_message_ = false;
  if (!message_binary_ && !simdjson::validate_utf8(fragments_.data(), fragments_.size()))
    return fail(1007, "text message is not valid UTF-8");
  ev.what = ws_event::kind::message;
  ev.binary = message_binary_;
  ev.payload = fragments_;
  return used;
}

void ws_reader::trim() {
  if (!in_message_ && fragments_.capacity() > 0)
    std::string{}.swap(fragments_);
}

size_t ws_header_size(size_t payload_size) {
  return payload_size < 126 ? 2 : payload_size < 65536 ? 4 : 10;
}

void append_ws_frame(std::string& out, ws_opcode op, std::string_view payload) {
  auto n = payload.size();
  char header[10];
  header[0] = static_cast<char>(0x80 | static_cast<uint8_t>(op));
  size_t h = 2;
  if (n < 126) {
    header[1] = static_cast<char>(n);
  } else if (n < 65536) {
    header[1] = 126;
    header[2] = static_cast<char>((n >> 8) & 0xFF);
    header[3] = static_cast<char>(n & 0xFF);
    h = 4;
  } else {
    header[1] = 127;
    for (int i = 0; i < 8; ++i)
      header[2 + i] = static_cast<char>((uint64_t{n} >> (56 - 8 * i)) & 0xFF);
    h = 10;
  }
  out.append(header, h);
  out.append(payload);
}

void append_ws_close(std::string& out, uint16_t code, std::string_view reason) {
  // 125 bytes of payload at most: 2 for the code, 123 for the reason, cut
  // where no UTF-8 sequence is split.
  if (reason.size() > 123) {
    size_t cut = 123;
    while (cut > 0 && (static_cast<uint8_t>(reason[cut]) & 0xC0) == 0x80)
      --cut;
    reason = reason.substr(0, cut);
  }
  std::string payload;
  payload.reserve(2 + reason.size());
  payload.push_back(static_cast<char>(code >> 8));
  payload.push_back(static_cast<char>(code & 0xFF));
  payload.append(reason);
  append_ws_frame(out, ws_opcode::close, payload);
}

bool is_valid_close_code(uint16_t code) {
  if (code >= 3000 && code <= 4999)
    return true;
  switch (code) {
    case 1000: case 1001: case 1002: case 1003:
    case 1007: case 1008: case 1009: case 1010: case 1011:
    case 1012: case 1013: case 1014:
      return true;
    default:
      return false;
  }
}

} // namespace tickgate
