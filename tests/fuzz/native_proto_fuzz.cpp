// Native protobuf client frames: decoding never crashes; an accepted command
// has valid unique topics and options within bounds, and means the same as
// its JSON frame; errors and acks (with positions for subscribes) encode as
// parseable ServerFrames that carry the request id.
#include "fuzz_checks.hpp"
#include "proto/native_codec.hpp"
#include "tickgate.pb.h"

using namespace tickgate;

namespace {

// protobuf logs every rejected non-UTF-8 string field; the decoder already
// answers those frames with an error, and the log would slow fuzzing down.
[[maybe_unused]] const bool protobuf_quiet = (google::protobuf::SetLogHandler(nullptr), true);

} // namespace

TICKGATE_FUZZ_TARGET(native_proto) {
  auto in = fuzz::as_view(data, size);
  auto decoded = decode_client_frame(in, true);
  v1::ServerFrame reply;
  if (auto* cmd = std::get_if<client_command>(&decoded)) {
    FUZZ_CHECK(cmd->format == wire_format::proto);
    fuzz::check_topics(*cmd, false);
    fuzz::check_options(*cmd);
    if (cmd->op == client_op::auth) // proto3 strings are UTF-8, as JSON needs
      FUZZ_CHECK(json_text::is_valid_utf8(cmd->token));
    auto as_json = decode_client_frame(fuzz::to_json_frame(*cmd), false);
    auto* parity = std::get_if<client_command>(&as_json);
    FUZZ_CHECK(parity && fuzz::same_request(*cmd, *parity));
    FUZZ_CHECK(reply.ParseFromString(encode_ack(cmd->format, cmd->id, cmd->op, cmd->topics)));
    FUZZ_CHECK(reply.has_ack() && reply.ack().has_id() == cmd->id.has_value());
    FUZZ_CHECK(static_cast<size_t>(reply.ack().topics_size()) == cmd->topics.size());
    // With positions: one per topic, `recovered` for each `since` entry.
    auto positions = fuzz::positions_for(*cmd);
    FUZZ_CHECK(reply.ParseFromString(
      encode_ack(cmd->format, cmd->id, cmd->op, cmd->topics, positions)));
    FUZZ_CHECK(static_cast<size_t>(reply.ack().positions_size()) == positions.size());
    FUZZ_CHECK(static_cast<size_t>(reply.ack().recovered_size()) == cmd->options.since.size());
    for (auto& p : positions)
      FUZZ_CHECK(reply.ack().positions().at(p.name).seq() == p.seq);
  } else {
    auto& err = std::get<client_error>(decoded);
    FUZZ_CHECK(err.format == wire_format::proto);
    FUZZ_CHECK(reply.ParseFromString(encode_error(err.format, err.id, err.code, err.message)));
    FUZZ_CHECK(reply.has_error() && reply.error().has_id() == err.id.has_value());
    FUZZ_CHECK(reply.error().code() == static_cast<int>(err.code));
  }
  return 0;
}
