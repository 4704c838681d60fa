#include "actors/rate_limit.hpp"

#include <algorithm>
#include <charconv>

#include "proto/dialect_settings.hpp"

namespace tickgate {

namespace {

std::string_view dialect_name(dialect d) {
  switch (d) {
    case dialect::native:
      return "native";
    case dialect::action:
      return "action";
    case dialect::stream:
      return "stream";
    case dialect::typed:
      return "typed";
    case dialect::socketio:
      return "socketio";
    case dialect::relay:
      return "relay";
  }
  return "native";
}

std::optional<double> parse_number(std::string_view s) {
  // std::from_chars for double is not in libstdc++ 12: parse digits[.digits].
  if (s.empty())
    return std::nullopt;
  double v = 0;
  double scale = 0;
  for (char c : s) {
    if (c == '.' && scale == 0) {
      scale = 1;
    } else if (c >= '0' && c <= '9') {
      if (scale > 0) {
        scale /= 10;
        v += (c - '0') * scale;
      } else {
        v = v * 10 + (c - '0');
      }
    } else {
      return std::nullopt;
    }
  }
  return v;
}

} // namespace

bool token_bucket::take(clock::time_point now) {
  if (rate <= 0)
    return true;
  if (now > refilled) {
    std::chrono::duration<double> dt = now - refilled;
    tokens = std::min(burst, tokens + dt.count() * rate);
    refilled = now;
  }
  if (tokens < 1)
    return false;
  tokens -= 1;
  return true;
}

bool token_bucket::full_at(clock::time_point now) const {
  if (rate <= 0)
    return true;
  std::chrono::duration<double> dt = now - refilled;
  return tokens + dt.count() * rate >= burst;
}

std::optional<rate_spec> parse_rate_spec(std::string_view text) {
  auto colon = text.find(':');
  auto rate = parse_number(text.substr(0, colon));
  if (!rate)
    return std::nullopt;
  rate_spec out{*rate, *rate * 2};
  if (colon != std::string_view::npos) {
    auto burst = parse_number(text.substr(colon + 1));
    if (!burst)
      return std::nullopt;
    out.burst = *burst;
  }
  // A bucket smaller than one message would refuse everything.
  if (out.rate > 0 && out.burst < 1)
    return std::nullopt;
  return out;
}

const rate_spec& inbound_limiter::spec_for(const wire_format& f) const {
  auto name = dialect_name(f.kind);
  const rate_spec* by_dialect = nullptr;
  std::string with_ns;
  if (f.kind == dialect::socketio) {
    auto& names = dialects().namespaces;
    with_ns = std::string{name} + (f.ns < names.size() ? names[f.ns] : std::string{"/"});
  }
  for (auto& [key, spec] : settings_->overrides) {
    if (!with_ns.empty() && key == with_ns)
      return spec;
    if (key == name)
      by_dialect = &spec;
  }
  return by_dialect ? *by_dialect : settings_->standard;
}

inbound_limiter::verdict inbound_limiter::admit(const wire_format& f,
                                                clock::time_point now) {
  uint32_t key = static_cast<uint32_t>(f.kind) | static_cast<uint32_t>(f.ns) << 8;
  auto i = std::find_if(buckets_.begin(), buckets_.end(),
                        [key](auto& b) { return b.first == key; });
  if (i == buckets_.end()) {
    auto& spec = spec_for(f);
    buckets_.emplace_back(key, token_bucket{spec.rate, spec.burst, now});
    i = buckets_.end() - 1;
  }
  if (i->second.take(now))
    return verdict::pass;
  ++dropped_;
  if (now - window_start_ > settings_->abuse_window) {
    window_start_ = now;
    window_drops_ = 0;
  }
  if (settings_->abuse_drops > 0 && ++window_drops_ >= settings_->abuse_drops)
    return verdict::close;
  if (last_notice_ && now - *last_notice_ < settings_->notice_interval)
    return verdict::drop_silently;
  last_notice_ = now;
  return verdict::drop_notify;
}

} // namespace tickgate
