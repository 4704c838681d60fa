// Engine.IO long-polling POST bodies: the payload decoder never crashes; what
// it accepts has no empty packet and at most the packet limit, and encoding
// the packets again gives a body that decodes to the same packets.
#include "fuzz_checks.hpp"
#include "proto/engineio_payload.hpp"

using namespace tickgate;

TICKGATE_FUZZ_TARGET(engineio_payload) {
  auto in = fuzz::as_view(data, size);
  auto decoded = engineio::decode_payload(in, 64);
  auto* packets = std::get_if<std::vector<engineio::packet>>(&decoded);
  if (!packets) {
    FUZZ_CHECK(!std::get<engineio::payload_error>(decoded).message.empty());
    return 0;
  }
  FUZZ_CHECK(!packets->empty() && packets->size() <= 64);
  std::string again;
  for (auto& p : *packets) {
    FUZZ_CHECK(p.binary || !p.bytes.empty());
    engineio::append_packet(again, p.bytes, p.binary);
  }
  auto twice = engineio::decode_payload(again, 64);
  auto* same = std::get_if<std::vector<engineio::packet>>(&twice);
  FUZZ_CHECK(same != nullptr && same->size() == packets->size());
  for (size_t i = 0; i < packets->size(); ++i)
    FUZZ_CHECK((*same)[i].bytes == (*packets)[i].bytes && (*same)[i].binary == (*packets)[i].binary);
  return 0;
}
