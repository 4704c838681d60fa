#pragma once

// The subscribe options (since / last / snapshot / throttle_ms) as the
// dialects that carry them read them, and the positions an ack reports.
// One set of rules for every dialect: JSON requests (native, Socket.IO)
// read the fields with read_subscribe_options, protobuf frames fill the
// struct themselves; both then check_subscribe_options and resolve_since.

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <simdjson.h>

#include "proto/native_codec.hpp"

namespace tickgate {

/// The first option field `obj` has ("since", "last", "snapshot",
/// "throttle_ms"), if any: requests other than subscribe may carry none.
std::optional<std::string_view> find_subscribe_option(simdjson::dom::object obj);

/// Reads the option fields of a JSON subscribe request into `out`, checking
/// their types and bounds (then check_subscribe_options). `since` keys stay
/// as the client wrote them until resolve_since. Returns an error message
/// naming the field, or "".
std::string read_subscribe_options(simdjson::dom::object obj, subscribe_options& out);

/// Bounds and combinations every dialect enforces: `last` up to
/// max_last_events, `throttle_ms` 0 or min..max_throttle_ms, epochs up to
/// max_epoch_length bytes, and `last` with `snapshot` refused. Error or "".
std::string check_subscribe_options(const subscribe_options& opts);

/// Turns the `since` keys into the request's canonical topics: a key is one
/// of `names` (every topic listed under that name; `names` parallel to
/// `topics`, or empty) or else one of `topics`. A key that is neither, or
/// two keys for one topic, is an error. Afterwards `since` follows the order
/// of `topics`. Error or "".
std::string resolve_since(subscribe_options& opts, std::span<const std::string> names,
                          std::span<const std::string> topics);

/// Appends `,"positions":{"<name>":{"epoch":"E","seq":S},...}` and, when
/// any position answers a `since`, `,"recovered":{"<name>":true|false,...}`
/// (only the positions that answer one). Nothing for no positions.
void append_positions(std::string& out, std::span<const topic_position> positions);

} // namespace tickgate
