// HTTP publish bodies: decoding never crashes; every accepted payload is
// valid JSON, every accepted topic is valid, and the accepted batch encodes
// back to a body that decodes to the same events.
#include "fuzz_checks.hpp"
#include "proto/publish_codec.hpp"

using namespace tickgate;

TICKGATE_FUZZ_TARGET(publish_body) {
  auto decoded = decode_publish_body(fuzz::as_view(data, size));
  auto* items = std::get_if<std::vector<publish_item>>(&decoded);
  if (!items) {
    FUZZ_CHECK(!std::get<publish_error>(decoded).message.empty());
    return 0;
  }
  FUZZ_CHECK(!items->empty() && items->size() <= max_publish_batch);
  std::string body = "[";
  for (auto& item : *items) {
    FUZZ_CHECK(is_valid_topic(item.topic));
    FUZZ_CHECK(fuzz::is_json(item.payload));
    if (body.size() > 1)
      body += ',';
    body += R"({"topic":)";
    json_text::append_string(body, item.topic);
    body += R"(,"data":)";
    body += item.payload;
    if (item.snapshot)
      body += R"(,"snapshot":true)";
    body += '}';
  }
  body += ']';
  auto again = decode_publish_body(body);
  auto* same = std::get_if<std::vector<publish_item>>(&again);
  FUZZ_CHECK(same && same->size() == items->size());
  for (size_t i = 0; i < items->size(); ++i)
    FUZZ_CHECK((*same)[i].topic == (*items)[i].topic
               && (*same)[i].payload == (*items)[i].payload
               && (*same)[i].snapshot == (*items)[i].snapshot);
  return 0;
}
