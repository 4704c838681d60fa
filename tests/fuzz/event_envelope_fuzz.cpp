// Redis event-twin messages (proto/event_envelope): decoding never throws or
// crashes; an accepted envelope has a valid event name, or a position (seq >
// 0 and an epoch of 1-64 bytes) and no name; its payload is the message's
// tail after the header line; and it re-encodes to an envelope that decodes
// to the same.
#include "fuzz_checks.hpp"
#include "proto/event_envelope.hpp"

using namespace tickgate;

TICKGATE_FUZZ_TARGET(event_envelope) {
  auto message = fuzz::as_view(data, size);
  std::string error;
  auto env = decode_event_envelope(message, error);
  if (!env) {
    FUZZ_CHECK(!error.empty());
    return 0;
  }
  FUZZ_CHECK(message.ends_with(env->payload));
  FUZZ_CHECK(message[message.size() - env->payload.size() - 1] == '\n');
  if (env->seq == 0) {
    FUZZ_CHECK(is_valid_event_name(env->event));
    FUZZ_CHECK(env->epoch.empty());
  } else {
    FUZZ_CHECK(env->event.empty() || is_valid_event_name(env->event));
    FUZZ_CHECK(!env->epoch.empty() && env->epoch.size() <= 64);
  }

  std::string bytes;
  if (env->seq == 0) {
    bytes = encode_event_envelope(env->event, env->snapshot, env->payload);
  } else {
    bytes = "{\"seq\":" + std::to_string(env->seq) + ",\"epoch\":";
    json_text::append_string(bytes, env->epoch);
    bytes += encode_numbered_tail(env->ts_us, env->event, env->snapshot, env->payload);
  }
  std::string again_error;
  auto again = decode_event_envelope(bytes, again_error);
  FUZZ_CHECK(again);
  FUZZ_CHECK(again->event == env->event && again->snapshot == env->snapshot
             && again->seq == env->seq && again->epoch == env->epoch
             && again->ts_us == env->ts_us && again->payload == env->payload);
  return 0;
}
