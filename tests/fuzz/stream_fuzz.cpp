// Stream protocol frames ({"method":"SUBSCRIBE","params":[...],"id":1}):
// decoding never crashes; stream names are taken as topics unchanged but for
// an update speed suffix (@100ms, @1000ms: the request's throttle_ms, one per
// SUBSCRIBE); the echoed id is valid JSON in every reply, accepted or not.
#include "fuzz_checks.hpp"

using namespace tickgate;

TICKGATE_FUZZ_TARGET(stream) {
  auto decoded = decode_stream_frame(fuzz::as_view(data, size));
  fuzz::check_replies(decoded);
  if (auto* cmd = std::get_if<client_command>(&decoded)) {
    FUZZ_CHECK(cmd->format.kind == dialect::stream);
    FUZZ_CHECK(cmd->op == client_op::list || cmd->op == client_op::subscribe
               || cmd->op == client_op::unsubscribe);
    fuzz::check_topics(*cmd, true);
    fuzz::check_options(*cmd);
    // A name is its topic, plus the update speed suffix the request shares.
    auto suffix = stream_speed_suffix(cmd->format);
    FUZZ_CHECK(cmd->options.throttle_ms == (suffix == "@100ms" ? 100u : suffix.empty() ? 0u : 1000u));
    for (size_t i = 0; i < cmd->topics.size(); ++i) {
      if (cmd->op == client_op::subscribe)
        FUZZ_CHECK(cmd->names[i] == cmd->topics[i] + std::string{suffix});
      else
        FUZZ_CHECK(cmd->names[i].starts_with(cmd->topics[i]));
    }
    FUZZ_CHECK(fuzz::is_json(cmd->ctx.echo));
  } else {
    auto& err = std::get<client_error>(decoded);
    FUZZ_CHECK(err.format.kind == dialect::stream);
    FUZZ_CHECK(err.ctx.echo.empty() || fuzz::is_json(err.ctx.echo));
  }
  return 0;
}
