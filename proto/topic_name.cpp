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

bool is_system_topic(std::string_view name) {
  return name.size() <= max_topic_length && name.starts_with(system_topic_prefix)
         && is_valid_topic(name.substr(system_topic_prefix.size()));
}

bool glob_match(std::string_view p, std::string_view s) {
  size_t pi = 0, si = 0;
  size_t star_p = std::string_view::npos, star_s = 0;
  while (si < s.size()) {
    if (pi < p.size() && p[pi] == '*') {
      star_p = pi++;
      star_s = si;
      continue;
    }
    bool matched = false;
    size_t next = pi;
    if (pi < p.size()) {
      if (p[pi] == '?') {
        matched = true;
        next = pi + 1;
      } else if (p[pi] == '[') {
        size_t k = pi + 1;
        bool negate = k < p.size() && p[k] == '^';
        if (negate)
          ++k;
        bool hit = false;
        while (k < p.size() && p[k] != ']') {
          if (p[k] == '\\' && k + 1 < p.size()) {
            hit |= p[k + 1] == s[si];
            k += 2;
          } else if (k + 2 < p.size() && p[k + 1] == '-' && p[k + 2] != ']') {
            auto lo = p[k], hi = p[k + 2];
            if (lo > hi)
              std::swap(lo, hi);
            hit |= s[si] >= lo && s[si] <= hi;
            k += 3;
          } else {
            hit |= p[k] == s[si];
            ++k;
          }
        }
        matched = negate ? !hit : hit;
        next = k < p.size() ? k + 1 : k;
      } else if (p[pi] == '\\' && pi + 1 < p.size()) {
        matched = p[pi + 1] == s[si];
        next = pi + 2;
      } else {
        matched = p[pi] == s[si];
        next = pi + 1;
      }
    }
    if (matched) {
      pi = next;
      ++si;
    } else if (star_p != std::string_view::npos) {
      pi = star_p + 1;
      si = ++star_s;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '*')
    ++pi;
  return pi == p.size();
}

} // namespace tickgate
