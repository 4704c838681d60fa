#pragma once

#include <cstdint>

namespace tickgate {

/// The client protocols tickgate speaks (README: "Client protocols").
enum class dialect : uint8_t {
  native,   // tickgate.v1: JSON text or protobuf binary frames
  action,   // {"action":"subscribe","symbols":[...]}
  stream,   // {"method":"SUBSCRIBE","params":["trade@X"],"id":1}
  typed,    // {"type":"subscribe","data":{"symbols":[...]}}
  socketio, // Socket.IO v4 over the WebSocket transport
  relay,    // not a client: another cluster node (RelayFrame, proto/relay_codec.hpp)
};

/// How frames to one subscriber (or one reply) are encoded. A topic encodes
/// each event once per distinct format among its subscribers and shares the
/// bytes with all of them.
struct wire_format {
  dialect kind = dialect::native;
  bool binary = false; // native only: protobuf frames
  uint8_t ns = 0;      // socketio: namespace index (dialect_settings::namespaces)
  uint8_t style = 0;   // socketio: 0 = joined as a room, 1 = joined by "subscribe";
                       // stream: the update speed suffix, 0 = none, 1 = @100ms, 2 = @1000ms

  constexpr uint32_t key() const {
    return static_cast<uint32_t>(kind) | (binary ? 1u << 8 : 0u)
           | static_cast<uint32_t>(ns) << 16 | static_cast<uint32_t>(style) << 24;
  }

  friend constexpr bool operator==(const wire_format& a, const wire_format& b) {
    return a.key() == b.key();
  }

  static const wire_format json;  // native JSON
  static const wire_format proto; // native protobuf
  static const wire_format relay; // to another cluster node
};

inline constexpr wire_format wire_format::json{dialect::native, false, 0, 0};
inline constexpr wire_format wire_format::proto{dialect::native, true, 0, 0};
inline constexpr wire_format wire_format::relay{dialect::relay, true, 0, 0};

constexpr bool is_binary(wire_format f) { return f.binary; }

} // namespace tickgate
