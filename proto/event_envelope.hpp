#pragma once

#include <cstdint>
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
/// A publish numbered in Redis (net/redis_numbering.hpp) carries its
/// position and publish time instead of, or beside, the name; the name is
/// then optional:
///
///   {"seq":12,"epoch":"3f9a..","ts":1765152000123456}\n<payload>
///   {"seq":13,"epoch":"3f9a..","ts":1765152000124001,"event":"order.filled"}\n<payload>
///
/// Event names never hold control characters (is_valid_event_name), so the
/// first newline ends the header. Header members other than these are
/// ignored, so later versions may add some.
struct event_envelope {
  std::string event;    // empty only in a numbered envelope
  bool snapshot = false;
  uint64_t seq = 0;     // 0: not numbered
  std::string epoch;    // 1-64 bytes in a numbered envelope
  int64_t ts_us = 0;    // publish time of a numbered envelope, 0 if absent
  std::string_view payload; // points into the decoded message
};

/// Longest header line a decoder reads.
constexpr size_t max_envelope_header = 512;

std::string encode_event_envelope(std::string_view event, bool snapshot,
                                  std::string_view payload);

/// The rest of a numbered envelope after its position: what the numbering
/// script appends to the `{"seq":N,"epoch":"E"` it writes itself.
/// `,"ts":T[,"event":..][,"snapshot":true]}\n<payload>`.
std::string encode_numbered_tail(int64_t ts_us, std::string_view event, bool snapshot,
                                 std::string_view payload);

/// The envelope in `message`, or nullopt with `error` set when the header is
/// missing, not a JSON object, names no valid event (and is not numbered),
/// or carries a malformed position. `message` must outlive the result.
/// Never throws.
std::optional<event_envelope> decode_event_envelope(std::string_view message,
                                                    std::string& error);

} // namespace tickgate
