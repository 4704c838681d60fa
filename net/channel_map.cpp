#include "net/channel_map.hpp"

namespace tickgate::net {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ')
    s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ')
    s.remove_suffix(1);
  return s;
}

// Splits "prefix{name}suffix" at its single {name} slot.
bool split_template(std::string_view t, std::string& prefix,
                    std::string& suffix) {
  auto open = t.find('{');
  auto close = t.find('}');
  if (open == std::string_view::npos || close == std::string_view::npos
      || close < open || t.find('{', open + 1) != std::string_view::npos)
    return false;
  prefix = std::string{t.substr(0, open)};
  suffix = std::string{t.substr(close + 1)};
  return true;
}

// The slot value if `name` is prefix + value + suffix (value non-empty).
std::optional<std::string_view> capture(std::string_view name,
                                        const std::string& prefix,
                                        const std::string& suffix) {
  if (name.size() <= prefix.size() + suffix.size()
      || name.substr(0, prefix.size()) != prefix
      || name.substr(name.size() - suffix.size()) != suffix)
    return std::nullopt;
  return name.substr(prefix.size(),
                     name.size() - prefix.size() - suffix.size());
}

} // namespace

std::optional<std::string> channel_map::parse(
  const std::vector<std::string>& specs, channel_map& out) {
  out.rules_.clear();
  for (auto& spec : specs) {
    auto arrow = spec.find("->");
    rule r;
    if (arrow == std::string::npos
        || !split_template(trim(std::string_view{spec}.substr(0, arrow)),
                           r.topic_prefix, r.topic_suffix)
        || !split_template(trim(std::string_view{spec}.substr(arrow + 2)),
                           r.channel_prefix, r.channel_suffix))
      return "bad mapping '" + spec
             + "' (expected e.g. \"trade@{symbol} -> channel:trade:{symbol}\")";
    out.rules_.push_back(std::move(r));
  }
  return std::nullopt;
}

std::string channel_map::to_channel(std::string_view topic) const {
  for (auto& r : rules_)
    if (auto v = capture(topic, r.topic_prefix, r.topic_suffix))
      return r.channel_prefix + std::string{*v} + r.channel_suffix;
  return std::string{topic};
}

std::string channel_map::to_topic(std::string_view channel) const {
  for (auto& r : rules_)
    if (auto v = capture(channel, r.channel_prefix, r.channel_suffix))
      return r.topic_prefix + std::string{*v} + r.topic_suffix;
  return std::string{channel};
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

std::string glob_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\')
      out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

} // namespace tickgate::net
