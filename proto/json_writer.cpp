#include "proto/json_writer.hpp"

#include <cassert>
#include <cmath>

#include <simdjson.h>

#include "proto/json_text.hpp"

namespace tickgate {

namespace {

// The length of the UTF-8 sequence that `lead` starts, or 0 if no sequence
// starts with it.
size_t sequence_length(unsigned char lead) {
  if (lead >= 0xC2 && lead <= 0xDF)
    return 2;
  if (lead >= 0xE0 && lead <= 0xEF)
    return 3;
  if (lead >= 0xF0 && lead <= 0xF4)
    return 4;
  return 0;
}

// `s` quoted, each byte that does not belong to a valid UTF-8 sequence
// replaced by U+FFFD; the slow path for text that failed validation.
void append_repaired(std::string& out, std::string_view s) {
  out.push_back('"');
  size_t start = 0;
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    auto len = sequence_length(c);
    if (len > 0 && i + len <= s.size() && simdjson::validate_utf8(s.data() + i, len)) {
      i += len;
      continue;
    }
    json_text::append_escaped(out, s.substr(start, i - start));
    out += "\\ufffd";
    start = ++i;
  }
  json_text::append_escaped(out, s.substr(start));
  out.push_back('"');
}

} // namespace

void json_writer::before_value() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (depth_ == 0)
    return;
  uint64_t bit = uint64_t{1} << (depth_ - 1);
  if (first_ & bit)
    first_ &= ~bit;
  else
    out_.push_back(',');
}

json_writer& json_writer::begin_object() {
  before_value();
  out_.push_back('{');
  assert(depth_ < 64);
  first_ |= uint64_t{1} << depth_++;
  return *this;
}

json_writer& json_writer::end_object() {
  assert(depth_ > 0 && !after_key_);
  --depth_;
  out_.push_back('}');
  return *this;
}

json_writer& json_writer::begin_array() {
  before_value();
  out_.push_back('[');
  assert(depth_ < 64);
  first_ |= uint64_t{1} << depth_++;
  return *this;
}

json_writer& json_writer::end_array() {
  assert(depth_ > 0 && !after_key_);
  --depth_;
  out_.push_back(']');
  return *this;
}

json_writer& json_writer::key(std::string_view k) {
  value(k);
  out_.push_back(':');
  after_key_ = true;
  return *this;
}

json_writer& json_writer::value(std::string_view s) {
  before_value();
  if (simdjson::validate_utf8(s.data(), s.size()))
    json_text::append_string(out_, s);
  else
    append_repaired(out_, s);
  return *this;
}

json_writer& json_writer::value(bool b) {
  before_value();
  out_ += b ? "true" : "false";
  return *this;
}

json_writer& json_writer::value(double d) {
  if (!std::isfinite(d))
    return null();
  before_value();
  json_text::append_double(out_, d);
  return *this;
}

json_writer& json_writer::null() {
  before_value();
  out_ += "null";
  return *this;
}

json_writer& json_writer::raw(std::string_view json) {
  before_value();
  out_ += json;
  return *this;
}

json_writer& json_writer::signed_value(int64_t v) {
  before_value();
  json_text::append_int(out_, v);
  return *this;
}

json_writer& json_writer::unsigned_value(uint64_t v) {
  before_value();
  json_text::append_uint(out_, v);
  return *this;
}

std::string json_quoted(std::string_view s) {
  std::string out;
  json_writer{out}.value(s);
  return out;
}

} // namespace tickgate
