// Action, stream and typed-envelope frames: decoding never crashes, accepted
// topics are valid, and every reply encodes as valid JSON.
#include <string_view>

#include "fuzz_target.hpp"
#include "proto/frame_codec.hpp"
#include "proto/topic_name.hpp"

using namespace tickgate;

TICKGATE_FUZZ_TARGET(seed_dialects) {
  std::string_view in{reinterpret_cast<const char*>(data), size};
  for (auto* decode : {&decode_action_frame, &decode_stream_frame, &decode_typed_frame}) {
    auto decoded = (*decode)(in);
    if (auto* cmd = std::get_if<client_command>(&decoded)) {
      FUZZ_CHECK(cmd->names.size() == cmd->topics.size());
      for (auto& t : cmd->topics)
        FUZZ_CHECK(is_valid_topic(t));
      reply_to to{cmd->format, cmd->id, cmd->ctx};
      for (auto& frame : encode_ack_frames(to, cmd->op, cmd->names, cmd->names))
        FUZZ_CHECK(classify_payload(frame) == payload_kind::json);
      FUZZ_CHECK(classify_payload(encode_pong_frame(to, 1)) == payload_kind::json);
    } else {
      auto& err = std::get<client_error>(decoded);
      reply_to to{err.format, err.id, err.ctx};
      FUZZ_CHECK(classify_payload(encode_error_frame(to, err.code, err.message))
                 == payload_kind::json);
    }
  }
  return 0;
}
