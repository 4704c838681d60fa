#pragma once

#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>

namespace tickgate {

/// Builds one JSON text into a caller's string: the replies, stats and
/// banners the node writes by hand. Strings are always escaped, and commas
/// between members are placed by the writer, so no caller formats JSON
/// itself. Not for the per-event encoders (proto/native_codec), which write
/// their fixed shapes directly.
///
///   std::string out;
///   json_writer w{out};
///   w.begin_object().field("ok", true).key("topics").begin_array()...;
///
/// Invariant: `first_` has bit d set while the container at depth d has no
/// member yet; containers nest at most 64 deep (ample for hand-built replies;
/// deeper nesting is a programming error and asserted).
class json_writer {
public:
  explicit json_writer(std::string& out) : out_(out) {}

  json_writer& begin_object();
  json_writer& end_object();
  json_writer& begin_array();
  json_writer& end_array();

  /// The name of the next object member.
  json_writer& key(std::string_view k);

  /// A string value, escaped (RFC 8259). Bytes that are not valid UTF-8 are
  /// written as U+FFFD, so the output is valid JSON whatever the input.
  json_writer& value(std::string_view s);
  json_writer& value(const char* s) { return value(std::string_view{s}); }
  json_writer& value(const std::string& s) { return value(std::string_view{s}); }
  json_writer& value(bool b);
  template <std::integral T>
    requires(!std::same_as<T, bool>)
  json_writer& value(T v) {
    if constexpr (std::is_signed_v<T>)
      return signed_value(static_cast<int64_t>(v));
    else
      return unsigned_value(static_cast<uint64_t>(v));
  }
  /// Shortest round-trip form; NaN and infinities (no JSON spelling) as null.
  json_writer& value(double d);
  json_writer& null();
  /// `json` written as is: a value that is already JSON text.
  json_writer& raw(std::string_view json);

  /// key(k).value(v)
  template <class T>
  json_writer& field(std::string_view k, const T& v) {
    key(k);
    return value(v);
  }

private:
  void before_value();
  json_writer& signed_value(int64_t v);
  json_writer& unsigned_value(uint64_t v);

  std::string& out_;
  uint64_t first_ = 0;
  int depth_ = 0;
  bool after_key_ = false;
};

/// `s` as a JSON string (quoted and escaped): for fields that take a JSON value.
std::string json_quoted(std::string_view s);

} // namespace tickgate
