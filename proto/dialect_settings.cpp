#include "proto/dialect_settings.hpp"

#include <algorithm>

#include "proto/topic_name.hpp"

namespace tickgate {

uint32_t dialect_settings::initial_last(dialect d) const {
  switch (d) {
    case dialect::action: return action_last;
    case dialect::stream: return stream_last;
    case dialect::typed: return typed_last;
    case dialect::socketio: return socketio_last;
    default: return 0;
  }
}

dialect_settings& dialects() {
  static dialect_settings instance;
  return instance;
}

std::optional<std::string> dialect_settings::expand(std::string_view templ,
                                                    std::string_view symbol) {
  std::string out{templ};
  constexpr std::string_view key = "{symbol}";
  if (auto pos = out.find(key); pos != std::string::npos)
    out.replace(pos, key.size(), symbol);
  if (!is_valid_topic(out))
    return std::nullopt;
  return out;
}

namespace {

void replace_all(std::string& s, std::string_view key, std::string_view value) {
  for (auto pos = s.find(key); pos != std::string::npos; pos = s.find(key, pos + value.size()))
    s.replace(pos, key.size(), value);
}

} // namespace

std::optional<std::string> dialect_settings::market_room(std::string_view channel,
                                                         std::string_view symbol) const {
  std::string out = market_topic;
  replace_all(out, "{channel}", channel);
  replace_all(out, "{symbol}", symbol);
  if (!is_valid_topic(out))
    return std::nullopt;
  return out;
}

std::vector<std::string> dialect_settings::rooms_of_user(std::string_view id) const {
  std::vector<std::string> out;
  for (auto& templ : user_rooms) {
    std::string room = templ;
    replace_all(room, "{id}", id);
    if (is_valid_topic(room) && std::find(out.begin(), out.end(), room) == out.end())
      out.push_back(std::move(room));
  }
  return out;
}

std::string_view dialect_settings::socketio_event(std::string_view topic,
                                                  uint8_t style) const {
  auto& table = style == 0 ? room_events : subscribe_events;
  for (auto& entry : table) {
    auto eq = entry.find('=');
    if (eq == std::string::npos)
      continue;
    std::string_view prefix{entry.data(), eq};
    if (topic.substr(0, prefix.size()) == prefix)
      return std::string_view{entry}.substr(eq + 1);
  }
  return default_event;
}

std::optional<uint8_t> dialect_settings::namespace_index(std::string_view ns) const {
  for (size_t i = 0; i < namespaces.size() && i < 256; ++i)
    if (namespaces[i] == ns)
      return static_cast<uint8_t>(i);
  return std::nullopt;
}

} // namespace tickgate
