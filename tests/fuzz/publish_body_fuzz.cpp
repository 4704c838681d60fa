// HTTP publish bodies: decoding never crashes; every accepted payload is
// valid JSON and every accepted topic is valid.
#include <string_view>

#include "fuzz_target.hpp"
#include "proto/publish_codec.hpp"
#include "proto/topic_name.hpp"

using namespace tickgate;

TICKGATE_FUZZ_TARGET(publish_body) {
  std::string_view in{reinterpret_cast<const char*>(data), size};
  auto decoded = decode_publish_body(in);
  if (auto* items = std::get_if<std::vector<publish_item>>(&decoded)) {
    FUZZ_CHECK(!items->empty());
    for (auto& item : *items) {
      FUZZ_CHECK(is_valid_topic(item.topic));
      FUZZ_CHECK(classify_payload(item.payload) == payload_kind::json);
    }
  }
  return 0;
}
