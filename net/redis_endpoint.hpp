#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tickgate::net {

/// Where and how to reach Redis: redis://[[user]:password@]host[:port][/db].
struct redis_endpoint {
  std::string host = "127.0.0.1";
  uint16_t port = 6379;
  std::string user;     // ACL user (Redis 6+); empty: the default user
  std::string password; // empty: no AUTH
  int db = 0;

  /// Parses a redis:// URL; on failure returns nullopt and sets `error`.
  static std::optional<redis_endpoint> parse(std::string_view url,
                                             std::string& error);

  /// host:port/db, with the user but never the password (for logs).
  std::string describe() const;
};

} // namespace tickgate::net
