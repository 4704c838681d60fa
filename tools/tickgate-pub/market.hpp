#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace tickgate::pub {

struct message {
  std::string channel;
  std::string payload;
};

struct market_settings {
  size_t symbols = 10;
  bool trades = true;
  bool depth = true;
  bool tickers = true;
  std::string channel_template = "{type}@{symbol}";
  size_t pad_bytes = 0;
};

/// A random-walk market for N symbols. Messages rotate over symbols, and per
/// symbol over the enabled types; every 20th depth message of a symbol is a
/// 10-level snapshot, the others are 1-3 level updates. Payloads use the
/// stream protocol's field names plus "P" (publish time, microseconds).
class market {
public:
  explicit market(market_settings s);

  message next(int64_t publish_us);

  const std::vector<std::string>& symbols() const { return names_; }

private:
  std::string channel(const char* type, const std::string& symbol) const;

  market_settings s_;
  std::vector<std::string> names_;
  std::vector<double> prices_;
  std::vector<uint64_t> depth_counts_;
  std::vector<const char*> types_;
  std::mt19937_64 rng_{7};
  uint64_t n_ = 0;
  uint64_t trade_id_ = 0;
  std::string pad_;
};

int64_t now_us();

} // namespace tickgate::pub
