// Stream protocol frames ({"method":"SUBSCRIBE","params":[...],"id":1}):
// decoding never crashes; stream names are taken as topics unchanged; the
// echoed id is valid JSON in every reply, accepted or not.
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
    FUZZ_CHECK(cmd->names == cmd->topics);
    FUZZ_CHECK(fuzz::is_json(cmd->ctx.echo));
  } else {
    auto& err = std::get<client_error>(decoded);
    FUZZ_CHECK(err.format.kind == dialect::stream);
    FUZZ_CHECK(err.ctx.echo.empty() || fuzz::is_json(err.ctx.echo));
  }
  return 0;
}
