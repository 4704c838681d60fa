// Who may open a WebSocket: the Origin allow-list, the global and per-IP
// connection caps and the per-IP handshake rate, against the real binary.

#include <cstdlib>
#include <memory>
#include <string>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>
#include <simdjson.h>

#include "support/json_fields.hpp"
#include "support/node_process.hpp"
#include "support/raw_upgrade.hpp"
#include "support/ws_client.hpp"

using namespace std::chrono_literals;
using namespace tickgate::test;

namespace {

// Sends `request` as is and returns what the node answers: everything up to
// the end of the headers for a 101, else up to the close (refusals close).
std::string exchange(uint16_t port, const std::string& request) {
  namespace asio = boost::asio;
  asio::io_context ioc;
  asio::ip::tcp::socket sock{ioc};
  sock.connect({asio::ip::make_address("127.0.0.1"), port});
  asio::write(sock, asio::buffer(request));
  std::string in;
  boost::system::error_code ec;
  auto n = asio::read_until(sock, asio::dynamic_buffer(in), "\r\n\r\n", ec);
  if (ec || in.rfind("HTTP/1.1 101", 0) == 0)
    return in.substr(0, n);
  asio::read(sock, asio::dynamic_buffer(in), ec); // until the node closes
  return in;
}

std::string upgrade_request(const std::string& key, const std::string& version) {
  return "GET /v1 HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
         "Connection: keep-alive, Upgrade\r\nSec-WebSocket-Key: " + key
         + "\r\nSec-WebSocket-Version: " + version + "\r\n\r\n";
}

} // namespace

TEST(handshake, the_101_carries_the_accept_key_of_rfc_6455) {
  node_process node;
  // The example key and answer of RFC 6455 section 1.3.
  auto answer = exchange(node.port(), upgrade_request("dGhlIHNhbXBsZSBub25jZQ==", "13"));
  EXPECT_EQ(answer.rfind("HTTP/1.1 101 Switching Protocols\r\n", 0), 0u) << answer;
  EXPECT_NE(answer.find("\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"),
            std::string::npos) << answer;
  EXPECT_NE(answer.find("\r\nUpgrade: websocket\r\n"), std::string::npos) << answer;
  EXPECT_EQ(node_stat(node.port(), "protection", "refused_malformed"), 0);
}

TEST(handshake, a_websocket_version_other_than_13_gets_426_naming_13_and_is_counted) {
  node_process node;
  auto answer = exchange(node.port(), upgrade_request("dGhlIHNhbXBsZSBub25jZQ==", "8"));
  EXPECT_EQ(answer.rfind("HTTP/1.1 426", 0), 0u) << answer;
  EXPECT_NE(answer.find("Sec-WebSocket-Version: 13\r\n"), std::string::npos) << answer;
  EXPECT_NE(answer.find("WebSocket version 13"), std::string::npos) << answer;
  EXPECT_EQ(node_stat(node.port(), "protection", "refused_malformed"), 1);
  auto metrics = http_request(node.port(), "GET", "/metrics").body;
  EXPECT_NE(metrics.find(R"(tickgate_handshakes_refused_total{reason="malformed"} 1)"),
            std::string::npos);
}

TEST(handshake, an_upgrade_without_a_valid_key_gets_400_and_the_next_client_is_served) {
  node_process node;
  auto missing = exchange(node.port(),
                          "GET /v1 HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                          "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n");
  EXPECT_EQ(missing.rfind("HTTP/1.1 400", 0), 0u) << missing;
  EXPECT_NE(missing.find("Sec-WebSocket-Key"), std::string::npos) << missing;
  auto short_key = exchange(node.port(), upgrade_request("c2hvcnQ=", "13"));
  EXPECT_EQ(short_key.rfind("HTTP/1.1 400", 0), 0u) << short_key;
  EXPECT_EQ(node_stat(node.port(), "protection", "refused_malformed"), 2);
  ws_client c{node.port()};
  c.send_text(R"({"op":"subscribe","id":1,"topics":["trade@AAPL"]})");
  auto ack = c.read_until([](const ws_message& m) {
    return json_field(m.data, "type") == "\"ack\"";
  });
  ASSERT_TRUE(ack);
  EXPECT_EQ(json_field(ack->data, "id"), "1") << ack->data;
}

TEST(handshake, origins_outside_the_allow_list_get_403_and_are_counted) {
  node_process node({"--protection.allowed-origins=https://app.example.com,https://*.desk.example"});
  boost::asio::io_context ioc;
  auto refused = upgrade(ioc, node.port(), "https://evil.example");
  EXPECT_EQ(refused.status, 403);
  EXPECT_NE(refused.body.find("origin https://evil.example is not allowed"), std::string::npos)
    << refused.body;
  EXPECT_EQ(upgrade(ioc, node.port(), "https://app.example.com").status, 101);
  EXPECT_EQ(upgrade(ioc, node.port(), "https://eu.desk.example").status, 101);
  EXPECT_EQ(upgrade(ioc, node.port(), "https://desk.example").status, 403);
  // Clients that are not browsers send no Origin and are let in.
  EXPECT_EQ(upgrade(ioc, node.port()).status, 101);
  EXPECT_EQ(node_stat(node.port(), "protection", "refused_origin"), 2);
  auto metrics = http_request(node.port(), "GET", "/metrics").body;
  EXPECT_NE(metrics.find(R"(tickgate_handshakes_refused_total{reason="origin"} 2)"),
            std::string::npos);
}

TEST(handshake, without_allowed_origins_every_origin_is_accepted) {
  node_process node;
  boost::asio::io_context ioc;
  EXPECT_EQ(upgrade(ioc, node.port(), "https://anyone.example").status, 101);
}

TEST(handshake, the_allowed_origins_environment_variable_is_honoured) {
  ::setenv("ALLOWED_ORIGINS", "https://a.example, https://b.example", 1);
  node_process node;
  ::unsetenv("ALLOWED_ORIGINS");
  boost::asio::io_context ioc;
  EXPECT_EQ(upgrade(ioc, node.port(), "https://b.example").status, 101);
  EXPECT_EQ(upgrade(ioc, node.port(), "https://c.example").status, 403);
}

TEST(handshake, the_global_cap_answers_503_until_a_client_leaves) {
  node_process node({"--protection.max-connections=2"});
  auto a = std::make_unique<ws_client>(node.port());
  ws_client b{node.port()};
  boost::asio::io_context ioc;
  auto refused = upgrade(ioc, node.port());
  EXPECT_EQ(refused.status, 503);
  EXPECT_NE(refused.body.find("server full"), std::string::npos) << refused.body;
  EXPECT_EQ(refused.retry_after, "1");
  // Plain HTTP still works while WebSockets are full.
  EXPECT_EQ(http_request(node.port(), "GET", "/health").status, 200);
  a->close();
  a.reset();
  EXPECT_TRUE(eventually([&] { return upgrade(ioc, node.port()).status == 101; }));
  EXPECT_EQ(node_stat(node.port(), "protection", "refused_full"), 1);
}

TEST(handshake, the_per_ip_cap_answers_429_and_counts_only_open_connections) {
  node_process node({"--protection.max-connections-per-ip=2"});
  auto a = std::make_unique<ws_client>(node.port());
  ws_client b{node.port()};
  boost::asio::io_context ioc;
  auto refused = upgrade(ioc, node.port());
  EXPECT_EQ(refused.status, 429);
  EXPECT_NE(refused.body.find("too many connections from 127.0.0.1 (limit 2)"), std::string::npos)
    << refused.body;
  a->close();
  a.reset();
  EXPECT_TRUE(eventually([&] { return upgrade(ioc, node.port()).status == 101; }));
  EXPECT_GE(node_stat(node.port(), "protection", "refused_ip_cap"), 1);
}

TEST(handshake, the_connection_cap_environment_variables_are_honoured) {
  boost::asio::io_context ioc;
  {
    ::setenv("MAX_CONNECTIONS", "1", 1);
    node_process node;
    ::unsetenv("MAX_CONNECTIONS");
    ws_client a{node.port()};
    EXPECT_EQ(upgrade(ioc, node.port()).status, 503);
  }
  {
    ::setenv("MAX_CONNECTIONS_PER_IP", "1", 1);
    node_process node;
    ::unsetenv("MAX_CONNECTIONS_PER_IP");
    ws_client a{node.port()};
    EXPECT_EQ(upgrade(ioc, node.port()).status, 429);
  }
  // A flag wins over the environment.
  ::setenv("MAX_CONNECTIONS", "1", 1);
  node_process node({"--protection.max-connections=5"});
  ::unsetenv("MAX_CONNECTIONS");
  ws_client a{node.port()};
  EXPECT_EQ(upgrade(ioc, node.port()).status, 101);
}

// The bucket's arithmetic (how much refills when) is tested with an explicit
// clock in net/admission_test.cpp; here only what a client sees, with no
// assumption about how long a handshake or a sleep takes.
TEST(handshake, the_handshake_rate_per_ip_answers_429_and_recovers) {
  node_process node({"--protection.handshake-rate=1", "--protection.handshake-burst=3"});
  boost::asio::io_context ioc;
  // The full bucket admits at least its burst; handshakes far faster than
  // one a second then empty it.
  int admitted = 0;
  upgrade_result refused;
  for (int i = 0; i < 20 && refused.status != 429; ++i) {
    auto r = upgrade(ioc, node.port());
    if (r.status == 101)
      ++admitted;
    else
      refused = std::move(r);
  }
  EXPECT_GE(admitted, 3);
  ASSERT_EQ(refused.status, 429);
  EXPECT_NE(refused.body.find("too many connection attempts"), std::string::npos) << refused.body;
  EXPECT_EQ(refused.retry_after, "1");
  // It refills: a later handshake is admitted again, and every refusal was counted.
  int refusals = 1;
  EXPECT_TRUE(eventually([&] {
    if (upgrade(ioc, node.port()).status == 101)
      return true;
    ++refusals;
    return false;
  }));
  EXPECT_EQ(node_stat(node.port(), "protection", "refused_ip_rate"), refusals);
}
