#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "proto/payload.hpp"

namespace tickgate {

/// Socket.IO Redis emitter and adapter traffic (@socket.io/redis-emitter,
/// @socket.io/redis-adapter broadcasts): PUBLISHed on `<prefix>#<nsp>#` and,
/// for an emit to exactly one room, `<prefix>#<nsp>#<room>#`; the message is
/// msgpack `[uid, packet, opts]` with
///   packet {type: 2 (EVENT), data: [event, ...args], nsp}
///   opts   {rooms: [...], except: [...], flags: {volatile?, compress?}}
/// The channel only helps Socket.IO servers skip rooms they lack; the
/// message itself says everything.
namespace emitter {

/// Why a message delivers nothing (the metric's `reason` label).
enum class skip : uint8_t {
  malformed, // not msgpack, or not [uid, packet, opts] of the expected types
  not_event, // another packet type (CONNECT, ACK, ...)
  binary,    // a binary argument (msgpack bin / BINARY_EVENT): not carried
  event,     // the event name is no valid event name (payload.hpp)
  room,      // rooms named, none of them a valid topic name
  nsp,       // a namespace this node does not serve
  request,   // an adapter request (socketsJoin, fetchSockets, serverSideEmit, ...)
  oversize,  // larger than the feed's payload limit
};
constexpr size_t skip_reasons = 8;
std::string_view to_string(skip why);

/// One decoded emit.
struct emit {
  std::string nsp = "/";
  std::string event;
  std::string args = "[]"; // the arguments as one JSON array
  size_t arg_count = 0;
  std::vector<std::string> rooms;  // empty: the whole namespace
  std::vector<std::string> except; // a client in one of these gets nothing
};

/// Decodes one message. Strings must be UTF-8, map keys strings (or
/// integers, written as their decimal text, as JavaScript does); a msgpack
/// timestamp becomes its ISO 8601 text (what a Date is in JSON); floats that
/// are not finite become null. Nesting deeper than 32 is malformed.
/// Never throws.
std::variant<emit, skip> decode(std::string_view bytes);

/// The topic every Socket.IO client of namespace `nsp` follows while the
/// emitter feed is on, so namespace-wide emits reach them: "nsp:" + nsp
/// ("nsp:/", "nsp:/prices"). Only the node subscribes these: clients are
/// refused (connection_actor), so none follows /admin's emits unjoined.
std::string namespace_topic(std::string_view nsp);

/// The publications that deliver `e` at `ts_us`: one per room (a client in
/// several of them gets it from the first only: each later room skips the
/// members of the ones before it) or one to the namespace's topic; all skip
/// the members of the `except` rooms. One argument is the payload itself;
/// none or several make the payload their JSON array, which Socket.IO
/// deliveries spread into arguments. Rooms that are no valid topic name have
/// no members and are dropped; with none left, the result is empty.
std::vector<std::shared_ptr<publication>> publications(emit e, int64_t ts_us);

} // namespace emitter

} // namespace tickgate
