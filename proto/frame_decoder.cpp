#include "proto/frame_decoder.hpp"

#include <simdjson.h>

#include "proto/frame_codec.hpp"
#include "proto/socketio_codec.hpp"

namespace tickgate {

namespace {

// native, action, stream and typed: one frame in, one decoded frame out. On
// the root path (`detecting`) the first decidable frame fixes the dialect.
// Kept small, one per connection: a dialect, the subprotocol's format and, for
// the typed envelope only until the greeting is out, its clientId. (The root
// path used to keep a second decoder once the dialect was known, and a copy
// of the id in each.)
class stateless_decoder : public frame_decoder {
public:
  stateless_decoder(dialect d, bool detecting, decoder_options options)
    : dialect_(d), detecting_(detecting), forced_(options.forced) {
    if (d == dialect::typed && !detecting)
      greeting_id_ = std::make_unique<std::string>(std::move(options.session_id));
  }

  std::vector<std::string> on_open() override {
    if (!greeting_id_)
      return {};
    auto id = std::move(greeting_id_);
    return {encode_typed_connection(*id)};
  }

  decoder_output decode(std::string_view bytes, bool binary) override {
    auto d = dialect_;
    if (detecting_) {
      if (auto found = detect(bytes, binary)) {
        dialect_ = d = *found;
        detecting_ = false;
      } else {
        d = dialect::native; // undecidable (not JSON): answer as native, decide later
      }
    }
    decoder_output out;
    out.frames.push_back(decode_one(d, bytes, binary));
    if (d == dialect::native && forced_)
      std::visit([&](auto& f) { f.format = *forced_; }, out.frames.back());
    return out;
  }

private:
  static decoded_frame decode_one(dialect d, std::string_view bytes, bool binary) {
    switch (d) {
      case dialect::action: return decode_action_frame(bytes);
      case dialect::stream: return decode_stream_frame(bytes);
      case dialect::typed: return decode_typed_frame(bytes);
      default: return decode_client_frame(bytes, binary);
    }
  }

  static std::optional<dialect> detect(std::string_view bytes, bool binary) {
    if (binary)
      return dialect::native;
    thread_local simdjson::dom::parser parser;
    simdjson::dom::element doc;
    simdjson::dom::object obj;
    if (parser.parse(bytes.data(), bytes.size(), true).get(doc) || doc.get_object().get(obj))
      return std::nullopt;
    simdjson::dom::element ignored;
    if (!obj["op"].get(ignored))
      return dialect::native;
    if (!obj["action"].get(ignored))
      return dialect::action;
    if (!obj["method"].get(ignored))
      return dialect::stream;
    if (!obj["type"].get(ignored))
      return dialect::typed;
    return std::nullopt;
  }

  dialect dialect_;
  bool detecting_;
  std::optional<wire_format> forced_; // native: the subprotocol-chosen reply format
  std::unique_ptr<std::string> greeting_id_;
};

std::optional<dialect> parse_dialect(std::string_view name) {
  if (name == "native")
    return dialect::native;
  if (name == "action")
    return dialect::action;
  if (name == "stream")
    return dialect::stream;
  if (name == "typed")
    return dialect::typed;
  if (name == "socketio")
    return dialect::socketio;
  return std::nullopt;
}

} // namespace

bool is_known_dialect(std::string_view name) {
  return name == "auto" || parse_dialect(name).has_value();
}

std::unique_ptr<frame_decoder> make_frame_decoder(std::string_view name,
                                                  decoder_options options) {
  if (name == "auto")
    return std::make_unique<stateless_decoder>(dialect::native, true, std::move(options));
  auto d = parse_dialect(name);
  if (!d)
    return nullptr;
  if (*d == dialect::socketio)
    return std::make_unique<socketio_decoder>(std::move(options));
  return std::make_unique<stateless_decoder>(*d, false, std::move(options));
}

} // namespace tickgate
