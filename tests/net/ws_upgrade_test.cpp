// The opening handshake's pure parts: the accept key, the subprotocol
// choice and the 101 the session writes.
#include <gtest/gtest.h>

#include "net/ws_upgrade.hpp"

namespace tickgate::net {
namespace {

namespace http = boost::beast::http;

TEST(ws_upgrade, the_accept_key_is_the_one_rfc_6455_gives_for_its_sample_key) {
  EXPECT_EQ(websocket_accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(ws_upgrade, the_first_native_subprotocol_offered_is_chosen) {
  std::string chosen;
  EXPECT_EQ(pick_subprotocol("chat, tickgate.v1.proto ,tickgate.v1.json", chosen),
            wire_format::proto);
  EXPECT_EQ(chosen, "tickgate.v1.proto");
  chosen.clear();
  EXPECT_FALSE(pick_subprotocol("chat,superchat", chosen));
  EXPECT_TRUE(chosen.empty());
}

TEST(ws_upgrade, the_101_names_the_accept_key_and_the_chosen_subprotocol) {
  auto r = switching_protocols("dGhlIHNhbXBsZSBub25jZQ==", "tickgate.v1.json");
  EXPECT_EQ(r.rfind("HTTP/1.1 101 Switching Protocols\r\n", 0), 0u);
  EXPECT_NE(r.find("\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"), std::string::npos);
  EXPECT_NE(r.find("\r\nSec-WebSocket-Protocol: tickgate.v1.json\r\n"), std::string::npos);
  EXPECT_EQ(r.substr(r.size() - 4), "\r\n\r\n");
  EXPECT_EQ(switching_protocols("dGhlIHNhbXBsZSBub25jZQ==", "").find("Sec-WebSocket-Protocol"),
            std::string::npos);
}

http_request upgrade_request() {
  http_request req{http::verb::get, "/v1?token=abc", 11};
  req.set(http::field::host, "localhost");
  req.set(http::field::connection, "Upgrade");
  req.set(http::field::upgrade, "websocket");
  req.set(http::field::sec_websocket_key, "dGhlIHNhbXBsZSBub25jZQ==");
  req.set(http::field::sec_websocket_version, "13");
  return req;
}

TEST(ws_upgrade, a_valid_request_is_accepted_with_the_client_it_describes) {
  auto req = upgrade_request();
  req.set(http::field::origin, "https://app.example");
  req.set(http::field::sec_websocket_protocol, "tickgate.v1.json");
  ASSERT_FALSE(websocket_upgrade_problem(req));
  edge_settings edge;
  auto a = accept_upgrade(req, "native", edge);
  EXPECT_EQ(a.client.dialect, "native");
  EXPECT_EQ(a.client.origin, "https://app.example");
  EXPECT_EQ(a.client.token, "abc");
  ASSERT_TRUE(a.decoder);
  EXPECT_NE(a.response.find("Sec-WebSocket-Protocol: tickgate.v1.json"), std::string::npos);
}

TEST(ws_upgrade, another_version_is_refused_with_426_naming_13) {
  auto req = upgrade_request();
  req.set(http::field::sec_websocket_version, "8");
  auto problem = websocket_upgrade_problem(req);
  ASSERT_TRUE(problem);
  auto res = upgrade_refusal_response(req, *problem);
  EXPECT_EQ(res.result(), http::status::upgrade_required);
  EXPECT_EQ(res[http::field::sec_websocket_version], "13");
}

TEST(ws_upgrade, a_short_key_is_refused_with_400) {
  auto req = upgrade_request();
  req.set(http::field::sec_websocket_key, "c2hvcnQ=");
  auto problem = websocket_upgrade_problem(req);
  ASSERT_TRUE(problem);
  EXPECT_EQ(problem->status, http::status::bad_request);
}

} // namespace
} // namespace tickgate::net
