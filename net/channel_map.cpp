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
