#include "support/fake_sink.hpp"

namespace tickgate::test {

send_result fake_sink::send(frame f) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (close_code_)
    return send_result::closed;
  frames_.push_back(std::move(f));
  cv_.notify_all();
  return send_result::queued;
}

void fake_sink::close(uint16_t code, std::string_view) {
  std::lock_guard<std::mutex> guard{mtx_};
  close_code_ = code;
  cv_.notify_all();
}

bool fake_sink::wait_for_frames(size_t n, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> guard{mtx_};
  return cv_.wait_for(guard, timeout, [&] { return frames_.size() >= n; });
}

std::vector<std::string> fake_sink::frames() const {
  std::lock_guard<std::mutex> guard{mtx_};
  std::vector<std::string> out;
  for (auto& f : frames_)
    out.push_back(*f.bytes);
  return out;
}

std::vector<bool> fake_sink::binary_flags() const {
  std::lock_guard<std::mutex> guard{mtx_};
  std::vector<bool> out;
  for (auto& f : frames_)
    out.push_back(f.binary);
  return out;
}

size_t fake_sink::count() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return frames_.size();
}

std::optional<uint16_t> fake_sink::close_code() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return close_code_;
}

} // namespace tickgate::test
