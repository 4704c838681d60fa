// The root path's dialect detection ("auto"): a sequence of frames separated
// by 0x1E, a frame starting with 0x00 being binary. Detection never crashes;
// the first frame that names op/action/method/type (or is binary) fixes the
// dialect for the rest of the connection; every frame decodes exactly as the
// chosen dialect's own decoder would decode it.
#include <optional>

#include <simdjson.h>

#include "fuzz_checks.hpp"
#include "proto/frame_decoder.hpp"

using namespace tickgate;

namespace {

// The documented rule, restated independently of the decoder.
std::optional<dialect> expected_dialect(std::string_view bytes, bool binary) {
  if (binary)
    return dialect::native;
  simdjson::dom::parser parser;
  simdjson::dom::object obj;
  if (parser.parse(bytes.data(), bytes.size(), true).get_object().get(obj))
    return std::nullopt;
  for (auto [key, d] : {std::pair{"op", dialect::native}, {"action", dialect::action},
                        {"method", dialect::stream}, {"type", dialect::typed}})
    if (!obj[key].error())
      return d;
  return std::nullopt;
}

decoded_frame decode_as(dialect d, std::string_view bytes, bool binary) {
  switch (d) {
    case dialect::action: return decode_action_frame(bytes);
    case dialect::stream: return decode_stream_frame(bytes);
    case dialect::typed: return decode_typed_frame(bytes);
    default: return decode_client_frame(bytes, binary);
  }
}

bool same(const decoded_frame& a, const decoded_frame& b) {
  if (a.index() != b.index())
    return false;
  if (auto* x = std::get_if<client_command>(&a)) {
    auto& y = std::get<client_command>(b);
    return x->op == y.op && x->id == y.id && x->topics == y.topics && x->names == y.names
           && x->token == y.token && x->format == y.format && x->ctx.echo == y.ctx.echo
           && x->ctx.verb == y.ctx.verb;
  }
  auto& x = std::get<client_error>(a);
  auto& y = std::get<client_error>(b);
  return x.code == y.code && x.message == y.message && x.id == y.id && x.format == y.format
         && x.ctx.echo == y.ctx.echo;
}

wire_format format_of(const decoded_frame& f) {
  return std::visit([](auto& x) { return x.format; }, f);
}

} // namespace

TICKGATE_FUZZ_TARGET(auto_detect) {
  auto in = fuzz::as_view(data, size);
  auto decoder = make_frame_decoder("auto", decoder_options{"fuzz", {}, 25000, 20000, 65536});
  FUZZ_CHECK(decoder && decoder->on_open().empty() && !decoder->heartbeat());
  std::optional<dialect> chosen;
  while (true) {
    auto sep = in.find('\x1e');
    auto frame = in.substr(0, sep);
    bool binary = !frame.empty() && frame[0] == '\0';
    if (binary)
      frame.remove_prefix(1);
    if (!chosen)
      chosen = expected_dialect(frame, binary);
    auto out = decoder->decode(frame, binary);
    FUZZ_CHECK(out.frames.size() == 1 && out.replies.empty() && !out.pong && !out.close);
    auto& decoded = out.frames.front();
    FUZZ_CHECK(format_of(decoded).kind == chosen.value_or(dialect::native));
    FUZZ_CHECK(same(decoded, decode_as(chosen.value_or(dialect::native), frame, binary)));
    fuzz::check_replies(decoded);
    if (sep == std::string_view::npos)
      break;
    in.remove_prefix(sep + 1);
  }
  return 0;
}
