#include "proto/frame_decoder.hpp"

#include <simdjson.h>

#include "proto/frame_codec.hpp"
#include "proto/socketio_codec.hpp"

namespace tickgate {

namespace {

// native, action, stream and typed: one frame in, one decoded frame out.
class stateless_decoder : public frame_decoder {
public:
  stateless_decoder(dialect d, decoder_options options)
    : dialect_(d), options_(std::move(options)) {
  }

  std::vector<std::string> on_open() override {
    if (dialect_ == dialect::typed)
      return {encode_typed_connection(options_.session_id)};
    return {};
  }

  decoder_output decode(std::string_view bytes, bool binary) override {
    decoder_output out;
    out.frames.push_back(decode_one(bytes, binary));
    if (dialect_ == dialect::native && options_.forced)
      std::visit([&](auto& f) { f.format = *options_.forced; }, out.frames.back());
    return out;
  }

private:
  decoded_frame decode_one(std::string_view bytes, bool binary) {
    switch (dialect_) {
      case dialect::action: return decode_action_frame(bytes);
      case dialect::stream: return decode_stream_frame(bytes);
      case dialect::typed: return decode_typed_frame(bytes);
      default: return decode_client_frame(bytes, binary);
    }
  }

  dialect dialect_;
  decoder_options options_;
};

// The root path: the first frame decides the dialect for the connection.
class detecting_decoder : public frame_decoder {
public:
  explicit detecting_decoder(decoder_options options) : options_(std::move(options)) {
  }

  decoder_output decode(std::string_view bytes, bool binary) override {
    if (!inner_) {
      auto d = detect(bytes, binary);
      if (!d) // undecidable (not JSON): answer as native, decide later
        return stateless_decoder{dialect::native, options_}.decode(bytes, binary);
      inner_ = std::make_unique<stateless_decoder>(*d, options_);
    }
    return inner_->decode(bytes, binary);
  }

private:
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

  decoder_options options_;
  std::unique_ptr<frame_decoder> inner_;
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
    return std::make_unique<detecting_decoder>(std::move(options));
  auto d = parse_dialect(name);
  if (!d)
    return nullptr;
  if (*d == dialect::socketio)
    return std::make_unique<socketio_decoder>(std::move(options));
  return std::make_unique<stateless_decoder>(*d, std::move(options));
}

} // namespace tickgate
