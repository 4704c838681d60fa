// Typed-envelope frames ({"type":"subscribe","data":{"symbols":[...]}}):
// decoding never crashes; symbols map onto the configured topic template one
// to one; the echoed id and ping timestamp keep every reply valid JSON.
#include "fuzz_checks.hpp"
#include "proto/dialect_settings.hpp"

using namespace tickgate;

TICKGATE_FUZZ_TARGET(typed) {
  auto decoded = decode_typed_frame(fuzz::as_view(data, size));
  fuzz::check_replies(decoded);
  if (auto* cmd = std::get_if<client_command>(&decoded)) {
    FUZZ_CHECK(cmd->format.kind == dialect::typed);
    FUZZ_CHECK(cmd->op == client_op::ping || cmd->op == client_op::subscribe
               || cmd->op == client_op::unsubscribe);
    fuzz::check_topics(*cmd, true);
    fuzz::check_symbols(*cmd, dialects().typed_topic);
    FUZZ_CHECK(cmd->ctx.echo.empty() || fuzz::is_json(cmd->ctx.echo));
  } else {
    auto& err = std::get<client_error>(decoded);
    FUZZ_CHECK(err.format.kind == dialect::typed);
    FUZZ_CHECK(err.ctx.echo.empty() || fuzz::is_json(err.ctx.echo));
  }
  return 0;
}
