// WebSocket frames from a client (proto/ws_framing.hpp). The first input byte
// picks a read size; the rest is the byte stream. Invariants: the stream
// decodes to the same events whether it arrives at once or in pieces (as the
// session feeds it, carrying partial frames over), nothing used exceeds what
// was given, messages respect the size limit, text is valid UTF-8, and a
// failed reader stays failed.
#include <string>
#include <vector>

#include <simdjson.h>

#include "fuzz_target.hpp"
#include "proto/ws_framing.hpp"

namespace {

constexpr size_t max_message = 4096;

struct outcome {
  std::vector<std::string> events; // kind, flags and payload, flattened
  uint16_t error = 0;
};

std::string describe(const tickgate::ws_event& ev) {
  std::string s;
  s.push_back(static_cast<char>('0' + static_cast<int>(ev.what)));
  s.push_back(ev.binary ? 'b' : 't');
  s += std::to_string(ev.code);
  s.push_back(':');
  s.append(ev.payload);
  return s;
}

void check_event(const tickgate::ws_event& ev) {
  using kind = tickgate::ws_event::kind;
  if (ev.what == kind::message) {
    FUZZ_CHECK(ev.payload.size() <= max_message);
    if (!ev.binary)
      FUZZ_CHECK(simdjson::validate_utf8(ev.payload.data(), ev.payload.size()));
  }
  if (ev.what == kind::ping || ev.what == kind::pong)
    FUZZ_CHECK(ev.payload.size() <= 125);
  if (ev.what == kind::close && ev.code != 0)
    FUZZ_CHECK(tickgate::is_valid_close_code(ev.code));
}

outcome decode(std::string stream, size_t chunk) {
  outcome out;
  tickgate::ws_reader reader{max_message};
  std::string pending;
  for (size_t pos = 0; pos < stream.size() && !reader.failed(); pos += chunk) {
    pending.append(stream, pos, chunk);
    size_t off = 0;
    for (;;) {
      tickgate::ws_event ev;
      auto used = reader.next(pending.data() + off, pending.size() - off, ev);
      FUZZ_CHECK(used <= pending.size() - off);
      if (used == 0)
        break;
      off += used;
      check_event(ev);
      if (ev.what != tickgate::ws_event::kind::none)
        out.events.push_back(describe(ev));
    }
    pending.erase(0, off);
    reader.trim();
  }
  if (reader.failed()) {
    out.error = reader.error_code();
    FUZZ_CHECK(out.error == 1002 || out.error == 1007 || out.error == 1009);
    std::string more = "\x81\x80\x00\x00\x00\x00";
    tickgate::ws_event ev;
    FUZZ_CHECK(reader.next(more.data(), more.size(), ev) == 0);
  }
  return out;
}

} // namespace

TICKGATE_FUZZ_TARGET(ws_framing) {
  if (size == 0)
    return 0;
  size_t chunk = 1 + data[0] % 64;
  std::string stream{reinterpret_cast<const char*>(data + 1), size - 1};
  auto whole = decode(stream, stream.size() + 1);
  auto pieces = decode(stream, chunk);
  // A failure can only be found at the same point, so events match exactly.
  FUZZ_CHECK(whole.events == pieces.events);
  FUZZ_CHECK(whole.error == pieces.error);
  return 0;
}
