#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace tickgate::engineio {

/// Engine.IO v4 over HTTP long-polling: what the bodies of its requests and
/// responses look like. A payload is one or more packets joined with the
/// record separator 0x1e; a text packet is its bytes as they are ("2",
/// "42[...]"), a binary one "b" and its bytes in base64. The Socket.IO
/// packets themselves are socketio_codec's.

inline constexpr char record_separator = '\x1e';

/// Appends `packet` to the payload `out` (behind a separator unless `out` is
/// empty); `binary`: as "b" + base64.
void append_packet(std::string& out, std::string_view packet, bool binary);

struct packet {
  std::string bytes;
  bool binary = false;
};

/// Why a client's payload cannot be taken (the session then closes, as
/// Engine.IO closes on a parse error).
struct payload_error {
  std::string message;
};

/// Splits a POST body into its packets: at most `max_packets`, none empty,
/// binary ones decoded from base64.
std::variant<std::vector<packet>, payload_error> decode_payload(std::string_view body,
                                                                size_t max_packets);

/// The error codes Engine.IO answers a bad polling or handshake request with
/// (status 400, 403 for forbidden), in its body shape {"code":N,"message":"..."}.
enum class error : int {
  unknown_transport = 0,
  unknown_sid = 1,
  bad_handshake_method = 2,
  bad_request = 3,
  forbidden = 4,
  unsupported_protocol_version = 5,
};

std::string_view message(error e);

/// {"code":N,"message":"..."}
std::string error_body(error e);

} // namespace tickgate::engineio
