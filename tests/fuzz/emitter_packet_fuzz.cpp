// Socket.IO emitter / adapter messages (msgpack): decoding never throws or
// crashes; an accepted emit has a valid event name and a JSON array of
// arguments, and every publication it becomes has a valid topic and a JSON
// payload.
#include "fuzz_checks.hpp"
#include "proto/emitter_packet.hpp"
#include "proto/topic_name.hpp"

using namespace tickgate;

TICKGATE_FUZZ_TARGET(emitter_packet) {
  auto decoded = emitter::decode(fuzz::as_view(data, size));
  auto* e = std::get_if<emitter::emit>(&decoded);
  if (!e)
    return 0;
  FUZZ_CHECK(is_valid_event_name(e->event));
  FUZZ_CHECK(fuzz::is_json(e->args) && e->args.front() == '[');
  for (auto& pub : emitter::publications(std::move(*e), 0)) {
    FUZZ_CHECK(is_valid_topic(pub->topic));
    FUZZ_CHECK(fuzz::is_json(pub->payload));
    FUZZ_CHECK(!pub->spread_args || pub->payload.front() == '[');
  }
  return 0;
}
