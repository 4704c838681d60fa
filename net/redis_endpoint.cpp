#include "net/redis_endpoint.hpp"

#include <charconv>

namespace tickgate::net {

namespace {

// Decodes %XX escapes (passwords may contain reserved characters).
std::optional<std::string> percent_decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    if (i + 2 >= s.size())
      return std::nullopt;
    int v = 0;
    auto res = std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
    if (res.ec != std::errc{} || res.ptr != s.data() + i + 3)
      return std::nullopt;
    out.push_back(static_cast<char>(v));
    i += 2;
  }
  return out;
}

} // namespace

std::optional<redis_endpoint> redis_endpoint::parse(std::string_view url,
                                                    std::string& error) {
  constexpr std::string_view scheme = "redis://";
  if (url.substr(0, scheme.size()) != scheme) {
    error = "expected redis://[[user]:password@]host[:port][/db]";
    return std::nullopt;
  }
  url.remove_prefix(scheme.size());
  redis_endpoint ep;
  if (auto at = url.rfind('@'); at != std::string_view::npos) {
    auto cred = url.substr(0, at);
    url.remove_prefix(at + 1);
    auto colon = cred.find(':');
    auto user = percent_decode(cred.substr(0, colon));
    auto pass = colon == std::string_view::npos
                  ? std::optional<std::string>{""}
                  : percent_decode(cred.substr(colon + 1));
    if (!user || !pass) {
      error = "bad %-escape in the credentials";
      return std::nullopt;
    }
    if (colon == std::string_view::npos) {
      ep.password = *user; // redis://secret@host: the password alone
    } else {
      ep.user = *user;
      ep.password = *pass;
    }
  }
  auto slash = url.find('/');
  auto hostport = url.substr(0, slash);
  if (slash != std::string_view::npos) {
    auto db = url.substr(slash + 1);
    if (!db.empty()) {
      auto res = std::from_chars(db.data(), db.data() + db.size(), ep.db);
      if (res.ec != std::errc{} || res.ptr != db.data() + db.size() || ep.db < 0) {
        error = "database must be a non-negative number";
        return std::nullopt;
      }
    }
  }
  std::string_view host = hostport;
  std::string_view port;
  if (!hostport.empty() && hostport.front() == '[') { // [::1]:6379
    auto close = hostport.find(']');
    if (close == std::string_view::npos) {
      error = "unterminated IPv6 address";
      return std::nullopt;
    }
    host = hostport.substr(1, close - 1);
    if (close + 1 < hostport.size() && hostport[close + 1] == ':')
      port = hostport.substr(close + 2);
  } else if (auto colon = hostport.rfind(':'); colon != std::string_view::npos) {
    host = hostport.substr(0, colon);
    port = hostport.substr(colon + 1);
  }
  if (!host.empty())
    ep.host = std::string{host};
  if (!port.empty()) {
    unsigned v = 0;
    auto res = std::from_chars(port.data(), port.data() + port.size(), v);
    if (res.ec != std::errc{} || res.ptr != port.data() + port.size() || v == 0
        || v > 65535) {
      error = "port must be 1-65535";
      return std::nullopt;
    }
    ep.port = static_cast<uint16_t>(v);
  }
  return ep;
}

std::string redis_endpoint::describe() const {
  std::string out = "redis://";
  if (!user.empty())
    out += user + "@";
  else if (!password.empty())
    out += "***@";
  return out + host + ":" + std::to_string(port) + "/" + std::to_string(db);
}

} // namespace tickgate::net
