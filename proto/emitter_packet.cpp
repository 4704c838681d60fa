#include "proto/emitter_packet.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <exception>
#include <optional>
#include <span>

#include <msgpack.hpp>

#include "proto/dialect_settings.hpp"
#include "proto/json_text.hpp"
#include "proto/topic_name.hpp"

namespace tickgate::emitter {

namespace {

constexpr size_t max_depth = 32;
constexpr uint64_t socketio_event = 2;        // socket.io-parser PacketType.EVENT
constexpr uint64_t socketio_binary_event = 5; // PacketType.BINARY_EVENT
constexpr int8_t msgpack_timestamp = -1;

// msgpack strings and binaries point into the message instead of being
// copied: the message outlives the decoded objects.
bool by_reference(msgpack::type::object_type, std::size_t, void*) {
  return true;
}

std::string_view text_of(const msgpack::object& o) {
  return {o.via.str.ptr, o.via.str.size};
}

// A map's value under `key`, or null.
const msgpack::object* field(const msgpack::object& map, std::string_view key) {
  for (auto& kv : std::span{map.via.map.ptr, map.via.map.size})
    if (kv.key.type == msgpack::type::STR && text_of(kv.key) == key)
      return &kv.val;
  return nullptr;
}

uint64_t big_endian(const char* p, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i)
    v = v << 8 | static_cast<unsigned char>(p[i]);
  return v;
}

// A msgpack timestamp as JavaScript's Date#toJSON writes it
// ("2024-05-01T12:00:00.250Z"); false for a malformed one.
bool append_timestamp(std::string& out, const msgpack::object_ext& ext) {
  int64_t sec = 0;
  uint64_t nsec = 0;
  if (ext.size == 4) {
    sec = static_cast<int64_t>(big_endian(ext.data(), 4));
  } else if (ext.size == 8) {
    auto v = big_endian(ext.data(), 8);
    nsec = v >> 34;
    sec = static_cast<int64_t>(v & ((uint64_t{1} << 34) - 1));
  } else if (ext.size == 12) {
    nsec = big_endian(ext.data(), 4);
    sec = static_cast<int64_t>(big_endian(ext.data() + 4, 8));
  } else {
    return false;
  }
  if (nsec >= 1000000000)
    return false;
  std::tm tm{};
  auto t = static_cast<std::time_t>(sec);
  if (gmtime_r(&t, &tm) == nullptr || tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999)
    return false;
  char buf[40];
  std::snprintf(buf, sizeof buf, "\"%04d-%02d-%02dT%02d:%02d:%02d.%03dZ\"", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(nsec / 1000000));
  out += buf;
  return true;
}

// Appends `o` as JSON; on failure returns why.
std::optional<skip> append_json(std::string& out, const msgpack::object& o) {
  switch (o.type) {
    case msgpack::type::NIL:
      out += "null";
      return std::nullopt;
    case msgpack::type::BOOLEAN:
      out += o.via.boolean ? "true" : "false";
      return std::nullopt;
    case msgpack::type::POSITIVE_INTEGER:
      json_text::append_uint(out, o.via.u64);
      return std::nullopt;
    case msgpack::type::NEGATIVE_INTEGER:
      json_text::append_int(out, o.via.i64);
      return std::nullopt;
    case msgpack::type::FLOAT32:
    case msgpack::type::FLOAT64:
      json_text::append_double(out, o.via.f64);
      return std::nullopt;
    case msgpack::type::STR:
      if (!json_text::is_valid_utf8(text_of(o)))
        return skip::malformed;
      json_text::append_string(out, text_of(o));
      return std::nullopt;
    case msgpack::type::BIN:
      return skip::binary;
    case msgpack::type::EXT:
      if (o.via.ext.type() == msgpack_timestamp && append_timestamp(out, o.via.ext))
        return std::nullopt;
      return skip::malformed;
    case msgpack::type::ARRAY: {
      out += '[';
      for (uint32_t i = 0; i < o.via.array.size; ++i) {
        if (i)
          out += ',';
        if (auto err = append_json(out, o.via.array.ptr[i]))
          return err;
      }
      out += ']';
      return std::nullopt;
    }
    case msgpack::type::MAP: {
      out += '{';
      for (uint32_t i = 0; i < o.via.map.size; ++i) {
        auto& kv = o.via.map.ptr[i];
        if (i)
          out += ',';
        if (kv.key.type == msgpack::type::STR) {
          if (auto err = append_json(out, kv.key))
            return err;
        } else if (kv.key.type == msgpack::type::POSITIVE_INTEGER
                   || kv.key.type == msgpack::type::NEGATIVE_INTEGER) {
          out += '"';
          if (kv.key.type == msgpack::type::POSITIVE_INTEGER)
            json_text::append_uint(out, kv.key.via.u64);
          else
            json_text::append_int(out, kv.key.via.i64);
          out += '"';
        } else {
          return skip::malformed;
        }
        out += ':';
        if (auto err = append_json(out, kv.val))
          return err;
      }
      out += '}';
      return std::nullopt;
    }
  }
  return skip::malformed;
}

// A list of rooms (strings; numbers as their text, as Socket.IO allows).
std::optional<skip> read_rooms(const msgpack::object* list, std::vector<std::string>& out) {
  if (list == nullptr || list->type == msgpack::type::NIL)
    return std::nullopt;
  if (list->type != msgpack::type::ARRAY)
    return skip::malformed;
  for (auto& r : std::span{list->via.array.ptr, list->via.array.size}) {
    if (r.type == msgpack::type::STR)
      out.emplace_back(text_of(r));
    else if (r.type == msgpack::type::POSITIVE_INTEGER)
      out.push_back(std::to_string(r.via.u64));
    else if (r.type == msgpack::type::NEGATIVE_INTEGER)
      out.push_back(std::to_string(r.via.i64));
    else
      return skip::malformed;
  }
  return std::nullopt;
}

std::variant<emit, skip> decode_object(const msgpack::object& root) {
  // [uid, packet, opts]
  if (root.type != msgpack::type::ARRAY || root.via.array.size < 2)
    return skip::malformed;
  auto& packet = root.via.array.ptr[1];
  if (packet.type != msgpack::type::MAP)
    return skip::malformed;
  auto* type = field(packet, "type");
  if (type == nullptr || type->type != msgpack::type::POSITIVE_INTEGER)
    return skip::malformed;
  if (type->via.u64 == socketio_binary_event)
    return skip::binary;
  if (type->via.u64 != socketio_event)
    return skip::not_event;
  emit e;
  if (auto* nsp = field(packet, "nsp"); nsp != nullptr && nsp->type != msgpack::type::NIL) {
    if (nsp->type != msgpack::type::STR)
      return skip::malformed;
    e.nsp = text_of(*nsp);
  }
  auto* data = field(packet, "data");
  if (data == nullptr || data->type != msgpack::type::ARRAY || data->via.array.size == 0
      || data->via.array.ptr[0].type != msgpack::type::STR)
    return skip::malformed;
  auto args = std::span{data->via.array.ptr, data->via.array.size};
  e.event = text_of(args[0]);
  if (!is_valid_event_name(e.event))
    return skip::event;
  e.args = "[";
  for (size_t i = 1; i < args.size(); ++i) {
    if (i > 1)
      e.args += ',';
    if (auto err = append_json(e.args, args[i]))
      return *err;
  }
  e.args += ']';
  e.arg_count = args.size() - 1;
  if (root.via.array.size >= 3) {
    auto& opts = root.via.array.ptr[2];
    if (opts.type == msgpack::type::MAP) {
      if (auto err = read_rooms(field(opts, "rooms"), e.rooms))
        return *err;
      if (auto err = read_rooms(field(opts, "except"), e.except))
        return *err;
    } else if (opts.type != msgpack::type::NIL) {
      return skip::malformed;
    }
  }
  // Checked last: a malformed message says so whatever its namespace.
  if (!dialects().namespace_index(e.nsp))
    return skip::nsp;
  return e;
}

// Keeps the first of each name, in order; drops names no topic can have.
void keep_topics(std::vector<std::string>& names) {
  std::vector<std::string> out;
  for (auto& n : names)
    if (is_valid_topic(n) && std::find(out.begin(), out.end(), n) == out.end())
      out.push_back(std::move(n));
  names = std::move(out);
}

} // namespace

std::string_view to_string(skip why) {
  switch (why) {
    case skip::malformed:
      return "malformed";
    case skip::not_event:
      return "not_event";
    case skip::binary:
      return "binary";
    case skip::event:
      return "event_name";
    case skip::room:
      return "room";
    case skip::nsp:
      return "namespace";
    case skip::request:
      return "request";
    case skip::oversize:
      return "oversize";
  }
  return "malformed";
}

std::variant<emit, skip> decode(std::string_view bytes) {
  // Each element takes at least one byte: no count may exceed the message,
  // so a forged header cannot make the decoder reserve more than it holds.
  msgpack::unpack_limit limit{bytes.size(), bytes.size() / 2, bytes.size(), bytes.size(),
                              bytes.size(), max_depth};
  try {
    std::size_t off = 0;
    auto handle = msgpack::unpack(bytes.data(), bytes.size(), off, by_reference, nullptr, limit);
    if (off != bytes.size())
      return skip::malformed; // trailing bytes
    return decode_object(handle.get());
  } catch (const std::exception&) {
    return skip::malformed; // msgpack's parse and limit errors, bad_alloc
  }
}

std::string namespace_topic(std::string_view nsp) {
  std::string out = "nsp:";
  out += nsp;
  return out;
}

std::vector<std::shared_ptr<publication>> publications(emit e, int64_t ts_us) {
  std::vector<std::shared_ptr<publication>> out;
  bool named_rooms = !e.rooms.empty();
  keep_topics(e.rooms);
  keep_topics(e.except);
  if (named_rooms && e.rooms.empty())
    return out;
  auto nsp_topic = namespace_topic(e.nsp);
  if (!named_rooms) {
    if (!is_valid_topic(nsp_topic))
      return out;
    e.rooms.push_back(std::move(nsp_topic));
  }
  std::string payload;
  bool spread = e.arg_count != 1;
  if (spread) {
    payload = std::move(e.args);
  } else {
    payload = e.args.substr(1, e.args.size() - 2); // the one argument itself
  }
  // Room i skips the except rooms' members and those of rooms 0..i-1.
  std::vector<std::string> skipped = std::move(e.except);
  for (auto& room : e.rooms) {
    auto p = std::make_shared<publication>();
    p->topic = room;
    p->payload = payload;
    p->kind = payload_kind::json;
    p->ts_us = ts_us;
    p->event = e.event;
    p->spread_args = spread;
    if (!skipped.empty())
      p->skip_members_of = std::make_shared<const std::vector<std::string>>(skipped);
    skipped.push_back(room);
    out.push_back(std::move(p));
  }
  return out;
}

} // namespace tickgate::emitter
