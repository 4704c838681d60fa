// Relay frames from other cluster nodes (RelayFrame): decoding never throws
// or crashes; an accepted frame has a valid topic, a numbered event an epoch
// of 1-64 bytes, an event name that is valid or empty; and what was accepted
// re-encodes to a frame that decodes to the same.
#include "fuzz_checks.hpp"
#include "proto/relay_codec.hpp"

using namespace tickgate;

namespace {

constexpr size_t max_bytes = 1u << 20;

std::string reencode(const relay_frame& f) {
  switch (f.what) {
    case relay_frame::kind::event:
      if (f.seq == 0)
        return encode_relay_publish(f.pub);
      return encode_relay_event(event_fields_of(f.pub.topic, f.seq, f.epoch, f.pub));
    case relay_frame::kind::reset: return encode_relay_reset(f.pub.topic, f.epoch);
    case relay_frame::kind::status: return encode_relay_status(f.pub.topic, f.state, f.message);
  }
  return {};
}

// An unnumbered event (a forwarded publish) has no position: an epoch it
// arrived with means nothing and is not sent on.
bool same(const relay_frame& a, const relay_frame& b) {
  bool positioned = a.what != relay_frame::kind::event || a.seq != 0;
  return a.what == b.what && a.seq == b.seq && (!positioned || a.epoch == b.epoch)
         && a.state == b.state
         && a.message == b.message && a.pub.topic == b.pub.topic
         && a.pub.payload == b.pub.payload && a.pub.kind == b.pub.kind
         && a.pub.ts_us == b.pub.ts_us && a.pub.snapshot == b.pub.snapshot
         && a.pub.event == b.pub.event && a.pub.spread_args == b.pub.spread_args;
}

} // namespace

TICKGATE_FUZZ_TARGET(relay_frame) {
  std::string error;
  auto frame = decode_relay_frame(fuzz::as_view(data, size), max_bytes, error);
  if (!frame) {
    FUZZ_CHECK(!error.empty());
    return 0;
  }
  FUZZ_CHECK(is_valid_topic(frame->pub.topic));
  if (frame->what == relay_frame::kind::event) {
    FUZZ_CHECK(frame->pub.event.empty() || is_valid_event_name(frame->pub.event));
    FUZZ_CHECK(frame->seq == 0 || (!frame->epoch.empty() && frame->epoch.size() <= 64));
  }
  if (frame->what == relay_frame::kind::reset)
    FUZZ_CHECK(!frame->epoch.empty() && frame->epoch.size() <= 64);

  auto bytes = reencode(*frame);
  std::string again_error;
  auto again = decode_relay_frame(bytes, max_bytes, again_error);
  FUZZ_CHECK(again);
  FUZZ_CHECK(same(*frame, *again));
  return 0;
}
