#include "actors/history.hpp"

#include "proto/topic_name.hpp"

#include <algorithm>
#include <charconv>

namespace tickgate {

history_limits history_settings::for_topic(std::string_view topic) const {
  for (auto& r : rules)
    if (glob_match(r.pattern, topic))
      return r.limits;
  return fallback;
}

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ')
    s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ')
    s.remove_suffix(1);
  return s;
}

std::optional<uint64_t> parse_count(std::string_view s) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size() || s.empty())
    return std::nullopt;
  return v;
}

std::optional<std::chrono::milliseconds> parse_duration(std::string_view s) {
  size_t digits = 0;
  while (digits < s.size() && s[digits] >= '0' && s[digits] <= '9')
    ++digits;
  auto n = parse_count(s.substr(0, digits));
  if (!n)
    return std::nullopt;
  auto unit = s.substr(digits);
  uint64_t ms_per = 0;
  if (unit == "ms")
    ms_per = 1;
  else if (unit == "s")
    ms_per = 1000;
  else if (unit == "min" || unit == "m")
    ms_per = 60'000;
  else if (unit == "h")
    ms_per = 3'600'000;
  else
    return std::nullopt;
  return std::chrono::milliseconds{static_cast<int64_t>(*n * ms_per)};
}

} // namespace

std::optional<history_rule> parse_history_rule(std::string_view text, std::string& error) {
  auto eq = text.find('=');
  if (eq == std::string_view::npos || trim(text.substr(0, eq)).empty()) {
    error = "expected <topic pattern>=size:<n>,ttl:<duration>";
    return std::nullopt;
  }
  history_rule rule;
  rule.pattern = std::string{trim(text.substr(0, eq))};
  auto rest = text.substr(eq + 1);
  while (!rest.empty()) {
    auto comma = rest.find(',');
    auto part = trim(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    auto colon = part.find(':');
    auto key = part.substr(0, colon);
    auto value = colon == std::string_view::npos ? std::string_view{} : part.substr(colon + 1);
    if (key == "size") {
      auto n = parse_count(value);
      if (!n) {
        error = "size must be a whole number of events, not '" + std::string{value} + "'";
        return std::nullopt;
      }
      rule.limits.size = static_cast<size_t>(*n);
    } else if (key == "ttl") {
      auto d = parse_duration(value);
      if (!d) {
        error = "ttl must be a duration such as 500ms, 30s, 5min or 2h, not '"
                + std::string{value} + "'";
        return std::nullopt;
      }
      rule.limits.ttl = *d;
    } else {
      error = "unknown part '" + std::string{part} + "' (use size:<n> and ttl:<duration>)";
      return std::nullopt;
    }
  }
  return rule;
}

topic_history::topic_history(history_limits limits, std::shared_ptr<history_budget> budget)
  : limits_(limits), budget_(std::move(budget)) {
}

topic_history::~topic_history() {
  refund(bytes_);
}

size_t topic_history::overhead() {
  // make_shared puts the publication and its count in one block.
  return sizeof(entry) + sizeof(publication) + 2 * sizeof(void*);
}

size_t topic_history::cost(const entry& e) {
  auto heap = [](const std::string& s) {
    // Short strings live inside the publication.
    return s.capacity() > std::string{}.capacity() ? s.capacity() + 1 : 0;
  };
  return overhead() + heap(e.pub->payload) + heap(e.pub->topic) + heap(e.pub->event);
}

void topic_history::charge(size_t n) {
  bytes_ += n;
  if (budget_)
    budget_->add(n);
}

void topic_history::refund(size_t n) {
  bytes_ -= n;
  if (budget_)
    budget_->remove(n);
}

void topic_history::drop_front() {
  auto& e = ring_.front();
  // The retained snapshot outlives its place in the ring; its bytes stay
  // charged until it goes.
  if (!(snapshot_ && snapshot_->seq == e.seq))
    refund(cost(e));
  ring_.pop_front();
}

history_evictions topic_history::append(uint64_t seq, publication_ptr pub,
                                        clock::time_point now) {
  history_evictions out;
  if (limits_.size == 0)
    return out;
  entry e{seq, std::move(pub), now};
  if (e.pub->snapshot) {
    if (snapshot_ && (ring_.empty() || snapshot_->seq < ring_.front().seq))
      refund(cost(*snapshot_)); // the old one was held outside the ring
    snapshot_ = e;
  }
  charge(cost(e));
  ring_.push_back(std::move(e));
  while (ring_.size() > limits_.size) {
    drop_front();
    ++out.size;
  }
  auto aged = expire(now);
  out.age = aged.age;
  while (budget_ && budget_->over() && ring_.size() > 1) {
    drop_front();
    ++out.bytes;
  }
  if (budget_ && budget_->over() && snapshot_ && snapshot_->seq < ring_.front().seq) {
    refund(cost(*snapshot_));
    snapshot_.reset();
    ++out.bytes;
  }
  return out;
}

history_evictions topic_history::expire(clock::time_point now) {
  history_evictions out;
  while (!ring_.empty() && now - ring_.front().at > limits_.ttl) {
    drop_front();
    ++out.age;
  }
  return out;
}

void topic_history::clear() {
  refund(bytes_);
  ring_.clear();
  snapshot_.reset();
}

bool topic_history::covers(uint64_t seq, uint64_t last_seq) const {
  if (seq > last_seq)
    return false; // a position this epoch never reached
  if (seq == last_seq)
    return true; // nothing missed
  return !ring_.empty() && ring_.front().seq <= seq + 1;
}

std::vector<retained_event> topic_history::after(uint64_t seq, size_t limit) const {
  std::vector<retained_event> out;
  auto i = std::upper_bound(ring_.begin(), ring_.end(), seq,
                            [](uint64_t s, const entry& e) { return s < e.seq; });
  for (; i != ring_.end() && out.size() < limit; ++i)
    out.push_back(retained_event{i->seq, i->pub});
  return out;
}

std::vector<retained_event> topic_history::last(size_t n) const {
  std::vector<retained_event> out;
  auto from = ring_.size() > n ? ring_.end() - static_cast<std::ptrdiff_t>(n) : ring_.begin();
  for (auto i = from; i != ring_.end(); ++i)
    out.push_back(retained_event{i->seq, i->pub});
  return out;
}

std::vector<retained_event> topic_history::from_snapshot() const {
  std::vector<retained_event> out;
  if (!snapshot_)
    return out;
  out.push_back(retained_event{snapshot_->seq, snapshot_->pub});
  auto rest = after(snapshot_->seq);
  out.insert(out.end(), rest.begin(), rest.end());
  return out;
}

std::optional<retained_event> topic_history::latest() const {
  if (!ring_.empty())
    return retained_event{ring_.back().seq, ring_.back().pub};
  if (snapshot_)
    return retained_event{snapshot_->seq, snapshot_->pub};
  return std::nullopt;
}

std::optional<topic_history::clock::time_point> topic_history::newest_at() const {
  if (ring_.empty())
    return std::nullopt;
  return ring_.back().at;
}

std::optional<topic_history::clock::time_point> topic_history::snapshot_at() const {
  if (!snapshot_)
    return std::nullopt;
  return snapshot_->at;
}

} // namespace tickgate
