#include "support/json_fields.hpp"

#include <regex>

#include <simdjson.h>

namespace tickgate::test {

namespace {

template <class F>
std::string with_field(const std::string& frame, const char* key, F f) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(frame).get(doc))
    return "<invalid JSON: " + frame + ">";
  simdjson::dom::element v;
  if (doc[key].get(v))
    return "<missing>";
  return f(v);
}

} // namespace

std::string json_field(const std::string& frame, const char* key) {
  return with_field(frame, key, [](simdjson::dom::element v) { return simdjson::minify(v); });
}

std::string json_string(const std::string& frame, const char* key) {
  return with_field(frame, key, [](simdjson::dom::element v) {
    std::string_view s;
    if (!v.get_string().get(s))
      return std::string{s};
    return simdjson::minify(v);
  });
}

std::string epochs_masked(const std::string& frame) {
  static const std::regex epoch{R"("epoch":"[^"]*")"};
  return std::regex_replace(frame, epoch, R"("epoch":"E")");
}

} // namespace tickgate::test
