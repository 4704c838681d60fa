#include "proto/relay_codec.hpp"

#include "proto/topic_name.hpp"
#include "tickgate.pb.h"

namespace tickgate {

namespace {

std::string serialize(const v1::RelayFrame& frame) {
  std::string out;
  frame.SerializeToString(&out);
  return out;
}

v1::PayloadKind to_proto(payload_kind k) {
  switch (k) {
    case payload_kind::json: return v1::PAYLOAD_KIND_JSON;
    case payload_kind::text: return v1::PAYLOAD_KIND_TEXT;
    case payload_kind::binary: return v1::PAYLOAD_KIND_BINARY;
  }
  return v1::PAYLOAD_KIND_BINARY;
}

std::string encode(std::string_view topic, uint64_t seq, std::string_view epoch, int64_t ts_us,
                   std::string_view payload, payload_kind kind, bool snapshot,
                   std::string_view event, bool spread_args) {
  v1::RelayFrame frame;
  auto* e = frame.mutable_event();
  e->set_topic(std::string{topic});
  e->set_seq(seq);
  e->set_epoch(std::string{epoch});
  e->set_ts(ts_us);
  e->set_data(std::string{payload});
  e->set_snapshot(snapshot);
  e->set_event(std::string{event});
  frame.set_payload_kind(to_proto(kind));
  frame.set_spread_args(spread_args);
  return serialize(frame);
}

} // namespace

std::string encode_relay_event(const event_fields& ev) {
  return encode(ev.topic, ev.seq, ev.epoch, ev.ts_us, ev.payload, ev.kind, ev.snapshot, ev.event,
                ev.spread_args);
}

std::string encode_relay_publish(const publication& pub) {
  return encode(pub.topic, 0, {}, pub.ts_us, pub.payload, pub.kind, pub.snapshot, pub.event,
                pub.spread_args);
}

std::string encode_relay_reset(std::string_view topic, std::string_view epoch) {
  v1::RelayFrame frame;
  frame.mutable_reset()->set_topic(std::string{topic});
  frame.mutable_reset()->set_epoch(std::string{epoch});
  return serialize(frame);
}

std::string encode_relay_status(std::string_view topic, std::string_view state,
                                std::string_view message) {
  v1::RelayFrame frame;
  auto* s = frame.mutable_status();
  s->set_topic(std::string{topic});
  s->set_state(std::string{state});
  s->set_message(std::string{message});
  return serialize(frame);
}

std::optional<relay_frame> decode_relay_frame(std::string_view bytes, size_t max_bytes,
                                              std::string& error) {
  if (bytes.size() > max_bytes) {
    error = "relay frame of " + std::to_string(bytes.size()) + " bytes exceeds "
            + std::to_string(max_bytes);
    return std::nullopt;
  }
  v1::RelayFrame frame;
  if (!frame.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    error = "not a relay frame";
    return std::nullopt;
  }
  relay_frame out;
  auto topic_ok = [&](const std::string& topic) {
    if (is_valid_topic(topic))
      return true;
    error = "invalid topic";
    return false;
  };
  switch (frame.kind_case()) {
    case v1::RelayFrame::kEvent: {
      auto& e = frame.event();
      if (!topic_ok(e.topic()))
        return std::nullopt;
      if (!e.event().empty() && !is_valid_event_name(e.event())) {
        error = "invalid event name";
        return std::nullopt;
      }
      if (e.seq() != 0 && (e.epoch().empty() || e.epoch().size() > 64)) {
        error = "a numbered event needs an epoch of 1-64 bytes";
        return std::nullopt;
      }
      if (e.seq() == 0 && !e.epoch().empty()) {
        error = "an unnumbered event (a forwarded publish) carries no epoch";
        return std::nullopt;
      }
      out.what = relay_frame::kind::event;
      out.seq = e.seq();
      out.epoch = e.epoch();
      out.pub.topic = e.topic();
      out.pub.payload = e.data();
      out.pub.ts_us = e.ts();
      out.pub.snapshot = e.snapshot();
      out.pub.event = e.event();
      out.pub.spread_args = frame.spread_args();
      switch (frame.payload_kind()) {
        case v1::PAYLOAD_KIND_JSON: out.pub.kind = payload_kind::json; break;
        case v1::PAYLOAD_KIND_TEXT: out.pub.kind = payload_kind::text; break;
        case v1::PAYLOAD_KIND_BINARY: out.pub.kind = payload_kind::binary; break;
        default: error = "unknown payload kind"; return std::nullopt;
      }
      return out;
    }
    case v1::RelayFrame::kReset:
      if (!topic_ok(frame.reset().topic()))
        return std::nullopt;
      if (frame.reset().epoch().empty() || frame.reset().epoch().size() > 64) {
        error = "a reset needs an epoch of 1-64 bytes";
        return std::nullopt;
      }
      out.what = relay_frame::kind::reset;
      out.pub.topic = frame.reset().topic();
      out.epoch = frame.reset().epoch();
      return out;
    case v1::RelayFrame::kStatus:
      if (!topic_ok(frame.status().topic()))
        return std::nullopt;
      out.what = relay_frame::kind::status;
      out.pub.topic = frame.status().topic();
      out.state = frame.status().state();
      out.message = frame.status().message();
      return out;
    default:
      error = "empty relay frame";
      return std::nullopt;
  }
}

} // namespace tickgate
