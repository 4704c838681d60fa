#include "proto/engineio_payload.hpp"

#include <array>
#include <cstdint>

#include "proto/json_text.hpp"
#include "proto/json_writer.hpp"

namespace tickgate::engineio {

void append_packet(std::string& out, std::string_view packet, bool binary) {
  if (!out.empty())
    out += record_separator;
  if (binary) {
    out += 'b';
    json_text::append_base64(out, packet);
  } else {
    out += packet;
  }
}

namespace {

// RFC 4648 base64 with padding; false for anything else.
bool decode_base64(std::string_view in, std::string& out) {
  static constexpr auto table = [] {
    std::array<int8_t, 256> t{};
    t.fill(-1);
    constexpr std::string_view digits =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < digits.size(); ++i)
      t[static_cast<unsigned char>(digits[i])] = static_cast<int8_t>(i);
    return t;
  }();
  if (in.size() % 4 != 0)
    return false;
  size_t pad = 0;
  while (pad < 2 && pad < in.size() && in[in.size() - 1 - pad] == '=')
    ++pad;
  out.clear();
  out.reserve(in.size() / 4 * 3);
  uint32_t acc = 0;
  for (size_t i = 0; i < in.size() - pad; ++i) {
    auto v = table[static_cast<unsigned char>(in[i])];
    if (v < 0)
      return false;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    if (i % 4 == 3) {
      out += static_cast<char>(acc >> 16);
      out += static_cast<char>(acc >> 8);
      out += static_cast<char>(acc);
      acc = 0;
    }
  }
  if (pad == 1) {
    out += static_cast<char>(acc >> 10);
    out += static_cast<char>(acc >> 2);
  } else if (pad == 2) {
    out += static_cast<char>(acc >> 4);
  }
  return true;
}

} // namespace

std::variant<std::vector<packet>, payload_error> decode_payload(std::string_view body,
                                                                size_t max_packets) {
  std::vector<packet> packets;
  if (body.empty())
    return payload_error{"empty payload"};
  for (;;) {
    auto end = body.find(record_separator);
    auto item = body.substr(0, end);
    if (item.empty())
      return payload_error{"empty packet in payload"};
    if (packets.size() == max_packets)
      return payload_error{"more than " + std::to_string(max_packets) + " packets in one payload"};
    packet p;
    if (item[0] == 'b') {
      p.binary = true;
      if (!decode_base64(item.substr(1), p.bytes))
        return payload_error{"binary packet is not valid base64"};
    } else {
      p.bytes = std::string{item};
    }
    packets.push_back(std::move(p));
    if (end == std::string_view::npos)
      break;
    body.remove_prefix(end + 1);
  }
  return packets;
}

std::string_view message(error e) {
  switch (e) {
    case error::unknown_transport:
      return "Transport unknown";
    case error::unknown_sid:
      return "Session ID unknown";
    case error::bad_handshake_method:
      return "Bad handshake method";
    case error::bad_request:
      return "Bad request";
    case error::forbidden:
      return "Forbidden";
    case error::unsupported_protocol_version:
      return "Unsupported protocol version";
  }
  return "Bad request";
}

std::string error_body(error e) {
  std::string body;
  json_writer{body}
    .begin_object()
    .field("code", static_cast<int>(e))
    .field("message", message(e))
    .end_object();
  return body;
}

} // namespace tickgate::engineio
