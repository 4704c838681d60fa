#pragma once

#include <algorithm>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include <spdlog/spdlog.h>

// Reading the environment variables of the gateways tickgate replaces; an
// option given as a flag wins over its variable.
namespace tickgate::env_vars {

/// The variable's value, or null when it is unset or empty.
inline const char* get(const char* name) {
  auto v = std::getenv(name);
  return v && *v ? v : nullptr;
}

/// True when an argument starts with `name` ("--kafka.brokers").
inline bool flag_given(const std::vector<std::string>& args, std::string_view name) {
  return std::any_of(args.begin(), args.end(),
                     [&](const std::string& a) { return a.rfind(name, 0) == 0; });
}

/// "a, b,c" -> {"a", "b", "c"} (blanks trimmed, empty items dropped).
inline std::vector<std::string> split_list(std::string_view s) {
  std::vector<std::string> out;
  while (!s.empty()) {
    auto comma = s.find(',');
    auto item = s.substr(0, comma);
    while (!item.empty() && item.front() == ' ')
      item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ')
      item.remove_suffix(1);
    if (!item.empty())
      out.emplace_back(item);
    if (comma == std::string_view::npos)
      break;
    s.remove_prefix(comma + 1);
  }
  return out;
}

/// A non-negative whole number from variable `name` into `out`; a bad value
/// is logged and ignored.
template <class T>
void get_count(const char* name, T& out) {
  auto v = get(name);
  if (!v)
    return;
  char* end = nullptr;
  auto n = std::strtoll(v, &end, 10);
  if (*end == '\0' && n >= 0)
    out = static_cast<T>(n);
  else
    spdlog::warn("config.bad_env {}={} ignored", name, v);
}

} // namespace tickgate::env_vars
