// Native JSON client frames: decoding never crashes, and whatever it accepts
// or rejects re-encodes as valid JSON replies.
#include <string_view>

#include "fuzz_target.hpp"
#include "proto/native_codec.hpp"
#include "proto/payload.hpp"
#include "proto/topic_name.hpp"

using namespace tickgate;

TICKGATE_FUZZ_TARGET(native_json) {
  std::string_view in{reinterpret_cast<const char*>(data), size};
  auto decoded = decode_client_frame(in, false);
  if (auto* cmd = std::get_if<client_command>(&decoded)) {
    FUZZ_CHECK(cmd->format == wire_format::json);
    for (auto& t : cmd->topics)
      FUZZ_CHECK(is_valid_topic(t));
    auto ack = encode_ack(wire_format::json, cmd->id, cmd->op, cmd->topics);
    FUZZ_CHECK(classify_payload(ack) == payload_kind::json);
  } else {
    auto& err = std::get<client_error>(decoded);
    auto frame = encode_error(wire_format::json, err.id, err.code, err.message);
    FUZZ_CHECK(classify_payload(frame) == payload_kind::json);
  }
  // Any payload, as text or binary, must still make a valid JSON event.
  auto kind = classify_payload(in);
  event_fields ev{"t", 1, "e", 1, in, kind};
  FUZZ_CHECK(classify_payload(encode_event(wire_format::json, ev)) == payload_kind::json);
  return 0;
}
