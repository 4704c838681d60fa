#include "net/ws_upgrade.hpp"

#include <chrono>
#include <random>

#include <openssl/evp.h>

namespace tickgate::net {

namespace http = boost::beast::http;

std::optional<upgrade_refusal> websocket_upgrade_problem(const http_request& req) {
  auto bad = [](std::string m) {
    return upgrade_refusal{http::status::bad_request, std::move(m)};
  };
  if (req.version() != 11)
    return bad("a WebSocket upgrade needs HTTP/1.1");
  if (req.method() != http::verb::get)
    return bad("a WebSocket upgrade is a GET request");
  if (req.find(http::field::host) == req.end())
    return bad("missing Host header");
  // Token lists, compared without case (Beast's RFC 7230 parser).
  if (!http::token_list{req[http::field::connection]}.exists("upgrade"))
    return bad("the Connection header must contain \"Upgrade\"");
  if (!http::token_list{req[http::field::upgrade]}.exists("websocket"))
    return bad("the Upgrade header must contain \"websocket\"");
  // The key is 16 random bytes in base64: 24 characters.
  auto key = req[http::field::sec_websocket_key];
  if (key.size() != 24)
    return bad("Sec-WebSocket-Key must be 16 bytes in base64 (24 characters)");
  if (req[http::field::sec_websocket_version] != "13")
    return upgrade_refusal{http::status::upgrade_required,
                           "this server speaks WebSocket version 13"};
  return std::nullopt;
}

http_response upgrade_refusal_response(const http_request& req, const upgrade_refusal& r) {
  auto res = error_response(req, r.status, r.message);
  if (r.status == http::status::upgrade_required)
    res.set(http::field::sec_websocket_version, "13");
  res.keep_alive(false);
  return res;
}

std::string websocket_accept_key(std::string_view key) {
  static constexpr std::string_view guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  std::string input{key};
  input += guid;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_size = 0;
  EVP_Digest(input.data(), input.size(), digest, &digest_size, EVP_sha1(), nullptr);
  std::string out(4 * ((digest_size + 2) / 3), '\0');
  auto n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), digest,
                           static_cast<int>(digest_size));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::optional<wire_format> pick_subprotocol(std::string_view offered, std::string& chosen) {
  while (!offered.empty()) {
    auto comma = offered.find(',');
    auto item = offered.substr(0, comma);
    while (!item.empty() && item.front() == ' ')
      item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ')
      item.remove_suffix(1);
    if (item == "tickgate.v1.json" || item == "tickgate.v1.proto") {
      chosen = std::string{item};
      return item == "tickgate.v1.json" ? wire_format::json : wire_format::proto;
    }
    if (comma == std::string_view::npos)
      break;
    offered.remove_prefix(comma + 1);
  }
  return std::nullopt;
}

std::string switching_protocols(std::string_view key, std::string_view subprotocol) {
  std::string answer = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                       "Connection: Upgrade\r\nSec-WebSocket-Accept: ";
  answer += websocket_accept_key(key);
  if (!subprotocol.empty()) {
    answer += "\r\nSec-WebSocket-Protocol: ";
    answer += subprotocol;
  }
  answer += "\r\nServer: tickgate\r\n\r\n";
  return answer;
}

namespace {

std::string random_id() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char digits[] = "0123456789abcdef";
  std::string out(16, '0');
  auto v = rng();
  for (auto& c : out) {
    c = digits[v & 0xF];
    v >>= 4;
  }
  return out;
}

} // namespace

accepted_upgrade accept_upgrade(const http_request& req, const std::string& dialect,
                                const edge_settings& edge) {
  accepted_upgrade a;
  a.client.dialect = dialect;
  a.client.origin = std::string{req[http::field::origin]};
  a.client.token = bearer_token(req);
  decoder_options options;
  if (dialect == "socketio" || dialect == "typed") // Engine.IO sid, typed clientId
    options.session_id = random_id();
  std::string subprotocol;
  if (dialect == "native" || dialect == "auto")
    options.forced = pick_subprotocol(req[http::field::sec_websocket_protocol], subprotocol);
  using std::chrono::duration_cast;
  using std::chrono::milliseconds;
  options.ping_interval_ms = duration_cast<milliseconds>(edge.ping_interval).count();
  options.ping_timeout_ms = duration_cast<milliseconds>(edge.pong_timeout).count();
  options.max_payload = edge.max_frame_bytes;
  a.decoder = make_frame_decoder(dialect, std::move(options));
  a.response = switching_protocols(req[http::field::sec_websocket_key], subprotocol);
  return a;
}

} // namespace tickgate::net
