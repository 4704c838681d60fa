// Native protobuf client frames: decoding never crashes; accepted topics are
// valid and errors encode as parseable protobuf.
#include <string_view>

#include "fuzz_target.hpp"
#include "proto/native_codec.hpp"
#include "proto/topic_name.hpp"
#include "tickgate.pb.h"

using namespace tickgate;

TICKGATE_FUZZ_TARGET(native_proto) {
  std::string_view in{reinterpret_cast<const char*>(data), size};
  auto decoded = decode_client_frame(in, true);
  if (auto* cmd = std::get_if<client_command>(&decoded)) {
    FUZZ_CHECK(cmd->format == wire_format::proto);
    for (auto& t : cmd->topics)
      FUZZ_CHECK(is_valid_topic(t));
  } else {
    auto& err = std::get<client_error>(decoded);
    v1::ServerFrame f;
    FUZZ_CHECK(f.ParseFromString(
      encode_error(wire_format::proto, err.id, err.code, err.message)));
  }
  return 0;
}
