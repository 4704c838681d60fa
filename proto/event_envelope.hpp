#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tickgate {

/// A publication's event name (and snapshot mark) carried beside its payload
/// where a transport moves bytes only, as Redis pub/sub does (the event twin
/// channel, net/redis_feed.hpp): one JSON header line, then the payload byte
/// for byte, whatever it is (JSON, text or binary):
///
///   {"event":"order.filled"}\n<payload>
///   {"event":"order.filled","snapshot":true}\n<payload>
///
/// Event names never hold control characters (is_valid_event_name), so the
/// first newline ends the header. Header members other than these two are
/// ignored, so later versions may add some.
struct event_envelope {
  std::string event;
  bool snapshot = false;
  std::string_view payload; // points into the decoded message
};

/// Longest header line a decoder reads.
constexpr size_t max_envelope_header = 512;

std::string encode_event_envelope(std::string_view event, bool snapshot,
                                  std::string_view payload);

/// The envelope in `message`, or nullopt with `error` set when the header is
/// missing, not a JSON object, or names no valid event. `message` must
/// outlive the result. Never throws.
std::optional<event_envelope> decode_event_envelope(std::string_view message,
                                                    std::string& error);

} // namespace tickgate
