// Action protocol frames ({"action":"subscribe","symbols":[...]}): decoding
// never crashes; an accepted command maps upper-cased symbols onto the
// configured topic template one to one; every reply is valid JSON.
#include "fuzz_checks.hpp"
#include "proto/dialect_settings.hpp"

using namespace tickgate;

TICKGATE_FUZZ_TARGET(action) {
  auto decoded = decode_action_frame(fuzz::as_view(data, size));
  fuzz::check_replies(decoded);
  if (auto* cmd = std::get_if<client_command>(&decoded)) {
    FUZZ_CHECK(cmd->format.kind == dialect::action);
    FUZZ_CHECK(cmd->op == client_op::ping || cmd->op == client_op::subscribe
               || cmd->op == client_op::unsubscribe);
    fuzz::check_topics(*cmd, true);
    fuzz::check_symbols(*cmd, dialects().action_topic);
  } else {
    FUZZ_CHECK(std::get<client_error>(decoded).format.kind == dialect::action);
  }
  return 0;
}
