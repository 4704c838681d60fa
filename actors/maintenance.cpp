#include "actors/maintenance.hpp"

#include "actors/metrics.hpp"
#include "proto/json_writer.hpp"

namespace tickgate {

maintenance_mode::state maintenance_mode::current() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return state_;
}

void maintenance_mode::enter(std::string message, uint32_t retry_after_s, int64_t now_ms) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (!state_.on)
    state_.since_ms = now_ms;
  state_.on = true;
  state_.message = std::move(message);
  state_.retry_after_s = retry_after_s;
  on_.store(true, std::memory_order_release);
  node_metrics().node_maintenance.store(1, std::memory_order_relaxed);
}

void maintenance_mode::leave() {
  std::lock_guard<std::mutex> guard{mtx_};
  state_ = state{};
  on_.store(false, std::memory_order_release);
  node_metrics().node_maintenance.store(0, std::memory_order_relaxed);
}

std::string maintenance_mode::to_json() const {
  auto s = current();
  std::string out;
  json_writer w{out};
  w.begin_object().field("on", s.on);
  if (s.on)
    w.field("message", s.message).field("retry_after", s.retry_after_s).field("since_ms", s.since_ms);
  w.end_object();
  return out;
}

} // namespace tickgate
