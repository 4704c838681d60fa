#include "proto/topic_name.hpp"

namespace tickgate {

bool is_valid_topic(std::string_view name) {
  if (name.empty() || name.size() > max_topic_length)
    return false;
  for (unsigned char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.'
              || c == ':' || c == '@' || c == '/' || c == '|' || c == '='
              || c == '+';
    if (!ok)
      return false;
  }
  return true;
}

} // namespace tickgate
