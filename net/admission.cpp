#include "net/admission.hpp"

#include <algorithm>
#include <cctype>

#include "actors/metrics.hpp"

namespace tickgate::net {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size()
         && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
              return std::tolower(static_cast<unsigned char>(x))
                     == std::tolower(static_cast<unsigned char>(y));
            });
}

// `pattern` is an origin ("https://app.example.com"), "*", or an origin whose
// host starts with "*." (any subdomain, not the bare domain).
bool origin_matches(std::string_view pattern, std::string_view origin) {
  while (!pattern.empty() && pattern.back() == '/')
    pattern.remove_suffix(1);
  if (pattern == "*")
    return true;
  auto star = pattern.find("://*.");
  if (star == std::string_view::npos)
    return iequals(pattern, origin);
  auto scheme = pattern.substr(0, star + 3);
  auto suffix = pattern.substr(star + 4); // ".example.com"
  if (origin.size() <= scheme.size() + suffix.size()
      || !iequals(origin.substr(0, scheme.size()), scheme))
    return false;
  auto host = origin.substr(scheme.size());
  return iequals(host.substr(host.size() - suffix.size()), suffix)
         && host.find('/') == std::string_view::npos;
}

// How long sweeps of the per-IP table are apart (they also run when it is full).
constexpr std::chrono::seconds sweep_period{10};

} // namespace

admission::admission(admission_settings settings) : settings_(std::move(settings)) {
}

bool admission::origin_allowed(std::string_view origin) const {
  if (settings_.allowed_origins.empty() || origin.empty())
    return true;
  return std::any_of(settings_.allowed_origins.begin(), settings_.allowed_origins.end(),
                     [&](const std::string& p) { return origin_matches(p, origin); });
}

admission::decision admission::admit(const std::string& ip, std::string_view origin,
                                     clock::time_point now) {
  decision d;
  auto refuse = [&](refusal r, unsigned status, std::string message) {
    d.reason = r;
    d.status = status;
    d.message = std::move(message);
    count_refusal(r);
    return d;
  };
  if (!origin_allowed(origin))
    return refuse(refusal::origin, 403,
                  "origin " + std::string{origin} + " is not allowed to open WebSockets here");
  bool per_ip = settings_.max_connections_per_ip > 0 || settings_.handshake_rate.rate > 0;
  ip_entry* entry = nullptr;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (settings_.max_connections > 0 && open_ >= settings_.max_connections)
      return refuse(refusal::full, 503,
                    "server full: " + std::to_string(settings_.max_connections)
                      + " connections open; try again later");
    if (per_ip) {
      if (now - last_sweep_ >= sweep_period
          || (ips_.size() >= settings_.max_tracked_ips && !ips_.count(ip)))
        sweep(now);
      auto i = ips_.find(ip);
      if (i == ips_.end()) {
        if (ips_.size() >= settings_.max_tracked_ips)
          return refuse(refusal::full, 503, "server busy: too many clients; try again later");
        auto& spec = settings_.handshake_rate;
        i = ips_.emplace(ip, ip_entry{0, token_bucket{spec.rate, spec.burst, now}}).first;
      }
      auto& e = i->second;
      if (!e.handshakes.take(now))
        return refuse(refusal::ip_rate, 429,
                      "too many connection attempts from " + ip + "; slow down");
      if (settings_.max_connections_per_ip > 0 && e.open >= settings_.max_connections_per_ip)
        return refuse(refusal::ip_cap, 429,
                      "too many connections from " + ip + " (limit "
                        + std::to_string(settings_.max_connections_per_ip) + ")");
      ++e.open;
      entry = &e;
    }
    ++open_;
  }
  d.ticket = std::make_shared<slot>(shared_from_this(), entry);
  return d;
}

void admission::release(ip_entry* ip) {
  std::lock_guard<std::mutex> guard{mtx_};
  --open_;
  if (ip != nullptr) // counts this ticket, so open > 0
    --ip->open;
}

void admission::sweep(clock::time_point now) {
  last_sweep_ = now;
  for (auto i = ips_.begin(); i != ips_.end();) {
    if (i->second.open == 0 && i->second.handshakes.full_at(now))
      i = ips_.erase(i);
    else
      ++i;
  }
  // Still full: forget IPs without connections even if their bucket is
  // refilling (they get a fresh bucket; a bounded table matters more).
  if (ips_.size() < settings_.max_tracked_ips)
    return;
  for (auto i = ips_.begin(); i != ips_.end();) {
    if (i->second.open == 0)
      i = ips_.erase(i);
    else
      ++i;
  }
}

size_t admission::open() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return open_;
}

size_t admission::tracked_ips() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return ips_.size();
}

void count_refusal(refusal r) {
  auto& m = node_metrics();
  switch (r) {
    case refusal::none:
      break;
    case refusal::origin:
      m.refused_origin.fetch_add(1, std::memory_order_relaxed);
      break;
    case refusal::full:
      m.refused_full.fetch_add(1, std::memory_order_relaxed);
      break;
    case refusal::ip_cap:
      m.refused_ip_cap.fetch_add(1, std::memory_order_relaxed);
      break;
    case refusal::ip_rate:
      m.refused_ip_rate.fetch_add(1, std::memory_order_relaxed);
      break;
  }
}

} // namespace tickgate::net
