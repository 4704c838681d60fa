#include "proto/event_envelope.hpp"

#include <simdjson.h>

#include "proto/json_text.hpp"
#include "proto/payload.hpp"

namespace tickgate {

namespace {

// The header's members after its first (`,"event":..` when named,
// `,"snapshot":true` when set), its end, then the payload.
std::string finish_envelope(std::string out, std::string_view event, bool snapshot,
                            std::string_view payload) {
  if (!event.empty()) {
    out += R"(,"event":)";
    json_text::append_string(out, event);
  }
  if (snapshot)
    out += R"(,"snapshot":true)";
  out += "}\n";
  out += payload;
  return out;
}

} // namespace

std::string encode_event_envelope(std::string_view event, bool snapshot,
                                  std::string_view payload) {
  std::string out;
  out.reserve(event.size() + payload.size() + 32);
  out += R"({"event":)";
  json_text::append_string(out, event);
  return finish_envelope(std::move(out), {}, snapshot, payload);
}

std::string encode_numbered_tail(int64_t ts_us, std::string_view event, bool snapshot,
                                 std::string_view payload) {
  std::string out;
  out.reserve(event.size() + payload.size() + 64);
  out += R"(,"ts":)";
  json_text::append_int(out, ts_us);
  return finish_envelope(std::move(out), event, snapshot, payload);
}

std::optional<event_envelope> decode_event_envelope(std::string_view message,
                                                    std::string& error) {
  auto newline = message.find('\n');
  if (newline == std::string_view::npos || newline > max_envelope_header) {
    error = "no header line of at most " + std::to_string(max_envelope_header) + " bytes";
    return std::nullopt;
  }
  thread_local simdjson::dom::parser parser;
  simdjson::dom::object header;
  auto text = message.substr(0, newline);
  if (parser.parse(text.data(), text.size(), true).get_object().get(header)) {
    error = "the header is not a JSON object";
    return std::nullopt;
  }
  event_envelope out;
  if (auto seq = header["seq"]; seq.error() != simdjson::NO_SUCH_FIELD) {
    std::string_view epoch;
    if (seq.get_uint64().get(out.seq) || out.seq == 0 || header["epoch"].get_string().get(epoch)
        || epoch.empty() || epoch.size() > 64) {
      error = "the header's position is not a seq > 0 and an epoch of 1-64 bytes";
      return std::nullopt;
    }
    out.epoch = std::string{epoch};
    int64_t ts = 0;
    if (!header["ts"].get_int64().get(ts) && ts > 0)
      out.ts_us = ts;
  }
  std::string_view name;
  auto named = header["event"];
  if (named.error() == simdjson::NO_SUCH_FIELD && out.seq != 0) {
    // a numbered publication without a name
  } else if (named.get_string().get(name) || !is_valid_event_name(name)) {
    error = "the header names no valid event";
    return std::nullopt;
  }
  bool snapshot = false;
  if (!header["snapshot"].get_bool().get(snapshot))
    out.snapshot = snapshot;
  out.event = std::string{name};
  out.payload = message.substr(newline + 1);
  return out;
}

} // namespace tickgate
