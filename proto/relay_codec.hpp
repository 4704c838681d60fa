#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "proto/native_codec.hpp"
#include "proto/payload.hpp"

namespace tickgate {

/// The frames cluster nodes exchange about a topic (RelayFrame in
/// tickgate.proto): what a home node relays to the other interested nodes,
/// and the publishes a node forwards to a topic's home.
std::string encode_relay_event(const event_fields& ev);
std::string encode_relay_reset(std::string_view topic, std::string_view epoch);
std::string encode_relay_status(std::string_view topic, std::string_view state,
                                std::string_view message);

/// A publication forwarded to its topic's home (no position yet).
std::string encode_relay_publish(const publication& pub);

/// A decoded relay frame.
struct relay_frame {
  enum class kind : uint8_t { event, reset, status } what = kind::event;
  // event: the publication, with the position the home gave it in
  // `seq`/`epoch` (seq 0: not numbered yet, a forwarded publish);
  // reset: topic and epoch; status: topic, state, message.
  publication pub;
  uint64_t seq = 0;
  std::string epoch;
  std::string state;
  std::string message;
};

/// Decodes a relay frame of at most `max_bytes`; the topic must be a valid
/// topic name, an event's name valid per is_valid_event_name. On failure
/// returns nothing and says why in `error`.
std::optional<relay_frame> decode_relay_frame(std::string_view bytes, size_t max_bytes,
                                              std::string& error);

} // namespace tickgate
