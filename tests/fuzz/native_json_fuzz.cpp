// Native JSON client frames: decoding never crashes; an accepted command has
// valid unique topics and options within bounds (since keyed by its topics),
// re-encodes to a JSON frame that decodes to the same request, and means the
// same as a protobuf frame; every reply, acks with positions included, is
// valid JSON.
#include <algorithm>

#include "fuzz_checks.hpp"
#include "proto/native_codec.hpp"
#include "tickgate.pb.h"

using namespace tickgate;

namespace {

std::string to_proto_frame(const client_command& cmd) {
  v1::ClientFrame f;
  if (cmd.id)
    f.set_id(*cmd.id);
  switch (cmd.op) {
    case client_op::subscribe: {
      auto* s = f.mutable_subscribe();
      for (auto& t : cmd.topics)
        s->add_topics(t);
      for (auto& [topic, pos] : cmd.options.since) {
        auto& p = (*s->mutable_since())[topic];
        p.set_epoch(pos.epoch);
        p.set_seq(pos.seq);
      }
      s->set_last(cmd.options.last);
      s->set_snapshot(cmd.options.snapshot);
      s->set_throttle_ms(cmd.options.throttle_ms);
      break;
    }
    case client_op::unsubscribe:
      for (auto& t : cmd.topics)
        f.mutable_unsubscribe()->add_topics(t);
      break;
    case client_op::auth: f.mutable_auth()->set_token(cmd.token); break;
    default: f.mutable_ping(); break;
  }
  return f.SerializeAsString();
}

} // namespace

TICKGATE_FUZZ_TARGET(native_json) {
  auto in = fuzz::as_view(data, size);
  auto decoded = decode_client_frame(in, false);
  fuzz::check_replies(decoded);
  if (auto* cmd = std::get_if<client_command>(&decoded)) {
    FUZZ_CHECK(cmd->format == wire_format::json);
    FUZZ_CHECK(cmd->op != client_op::list);
    fuzz::check_topics(*cmd, false);
    fuzz::check_options(*cmd);
    auto again = decode_client_frame(fuzz::to_json_frame(*cmd), false);
    auto* same = std::get_if<client_command>(&again);
    FUZZ_CHECK(same && fuzz::same_request(*cmd, *same));
    auto as_proto = decode_client_frame(to_proto_frame(*cmd), true);
    auto* parity = std::get_if<client_command>(&as_proto);
    FUZZ_CHECK(parity && fuzz::same_request(*cmd, *parity));
  } else {
    FUZZ_CHECK(std::get<client_error>(decoded).format == wire_format::json);
  }
  // Any payload, as text or binary, still makes a valid JSON event, and so
  // does any event name the node accepts.
  auto name = in.substr(0, std::min<size_t>(in.size(), 24));
  event_fields ev{"trade@AAPL", 1, "tg-1", 1, in, classify_payload(in), size % 2 == 0,
                  is_valid_event_name(name) ? name : std::string_view{}};
  FUZZ_CHECK(fuzz::is_json(encode_event(wire_format::json, ev)));
  return 0;
}
