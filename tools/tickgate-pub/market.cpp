#include "tools/tickgate-pub/market.hpp"

#include <algorithm>
#include <chrono>

#include <spdlog/fmt/fmt.h>

namespace tickgate::pub {

namespace {

constexpr const char* well_known[] = {"AAPL", "MSFT", "GOOGL", "AMZN", "TSLA",
                                      "NVDA", "META", "BTC-USD", "ETH-USD",
                                      "SOL-USD"};

} // namespace

int64_t now_us() {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

market::market(market_settings s) : s_(std::move(s)), pad_(s_.pad_bytes, 'x') {
  for (size_t i = 0; i < s_.symbols; ++i) {
    names_.push_back(i < std::size(well_known) ? std::string{well_known[i]}
                                               : fmt::format("SYM{:05}", i));
    prices_.push_back(50.0 + 10.0 * static_cast<double>(i % 97));
  }
  depth_counts_.assign(s_.symbols, 0);
  if (s_.trades)
    types_.push_back("trade");
  if (s_.depth)
    types_.push_back("depth");
  if (s_.tickers)
    types_.push_back("ticker");
}

std::string market::channel(const char* type, const std::string& symbol) const {
  std::string out = s_.channel_template;
  auto replace = [&](const std::string& key, const std::string& value) {
    for (auto pos = out.find(key); pos != std::string::npos; pos = out.find(key, pos + value.size()))
      out.replace(pos, key.size(), value);
  };
  replace("{type}", type);
  replace("{symbol}", symbol);
  return out;
}

message market::next(int64_t publish_us) {
  auto i = n_ % names_.size();
  auto type = types_[(n_ / names_.size()) % types_.size()];
  ++n_;
  auto& sym = names_[i];
  std::normal_distribution<double> step(0.0, 0.0005);
  prices_[i] = std::max(0.01, prices_[i] * (1.0 + step(rng_)));
  auto p = prices_[i];
  std::string payload;
  std::string_view t{type};
  if (t == "trade") {
    std::uniform_int_distribution<int> qty(1, 500);
    auto id = ++trade_id_;
    payload = fmt::format(
      R"({{"e":"trade","s":"{}","t":{},"p":"{:.2f}","q":"{}","m":{},"T":{},"P":{})",
      sym, id, p, qty(rng_), (id & 1) ? "true" : "false", publish_us / 1000,
      publish_us);
  } else if (t == "depth") {
    bool snapshot = depth_counts_[i]++ % 20 == 0;
    int levels = snapshot ? 10 : 1 + static_cast<int>(rng_() % 3);
    std::string asks, bids;
    for (int l = 0; l < levels; ++l) {
      auto q = 1 + rng_() % 100;
      asks += fmt::format(R"({}["{:.2f}","{}"])", l ? "," : "", p + 0.01 * (l + 1), q);
      bids += fmt::format(R"({}["{:.2f}","{}"])", l ? "," : "", p - 0.01 * (l + 1), q);
    }
    payload = fmt::format(
      R"({{"e":"depth","s":"{}","snapshot":{},"u":{},"a":[{}],"b":[{}],"P":{})",
      sym, snapshot ? "true" : "false", depth_counts_[i], asks, bids, publish_us);
  } else {
    payload = fmt::format(
      R"({{"e":"ticker","s":"{}","c":"{:.2f}","o":"{:.2f}","h":"{:.2f}","l":"{:.2f}","v":"{}","P":{})",
      sym, p, p * 0.99, p * 1.01, p * 0.98, 1000 + rng_() % 100000, publish_us);
  }
  if (!pad_.empty())
    payload += R"(,"pad":")" + pad_ + '"';
  payload += '}';
  return {channel(type, sym), std::move(payload)};
}

} // namespace tickgate::pub
