// JWT authentication and private topics against the real binary: every way a
// token reaches the node (Authorization header, ?token=, the native auth
// frame, the Socket.IO CONNECT's auth.token), with valid, expired,
// wrong-signature and other users' tokens, HS256 and RS256.

#include <cstdlib>
#include <fstream>
#include <regex>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support/json_fields.hpp"
#include "support/jwt_tokens.hpp"
#include "support/node_process.hpp"
#include "support/ws_client.hpp"
#include "tickgate.pb.h"

using namespace std::chrono_literals;
using namespace tickgate::test;

namespace {

const std::string secret = "tickgate-test-secret";

// leeway 0: tokens expire on the second their exp names.
std::vector<std::string> hs256_node() {
  return {"--auth.jwt-secret=" + secret, "--auth.leeway=0s"};
}

std::string token_for(const std::string& user, int64_t ttl_s = 300,
                      const std::string& role = "") {
  token_spec t;
  t.key = secret;
  t.sub = user;
  t.role = role;
  t.exp = now_s() + ttl_s;
  return t.sign();
}

std::string expired_token(const std::string& user) {
  return token_for(user, -30);
}

std::string forged_token(const std::string& user) {
  token_spec t;
  t.key = "someone else's secret";
  t.sub = user;
  t.exp = now_s() + 300;
  return t.sign();
}

std::string next(ws_client& c, std::chrono::milliseconds t = 5000ms) {
  auto m = c.read(t);
  return m ? epochs_masked(m->data) : "<nothing>";
}

int publish(uint16_t port, const std::string& topic, const std::string& data) {
  return http_request(port, "POST", "/api/publish",
                      R"({"topic":")" + topic + R"(","data":)" + data + "}")
    .status;
}

std::string subscribe(ws_client& c, const std::string& topic, int id = 1) {
  c.send_text(R"({"op":"subscribe","id":)" + std::to_string(id) + R"(,"topics":[")" + topic
              + R"("]})");
  return next(c);
}

std::string ack(int id, const std::string& topic) {
  return R"({"type":"ack","id":)" + std::to_string(id) + R"(,"op":"subscribe","topics":[")"
         + topic + R"("],"positions":{")" + topic + R"(":{"epoch":"E","seq":0}}})";
}

// The node closes; true when it did so with `code` and a reason containing `text`.
::testing::AssertionResult closes_with(ws_client& c, uint16_t code, const std::string& text) {
  auto m = c.read(5000ms);
  if (!c.closed())
    return ::testing::AssertionFailure() << "still open; got " << (m ? m->data : "nothing");
  if (c.close_code() != code || c.close_reason().find(text) == std::string::npos)
    return ::testing::AssertionFailure() << "closed " << c.close_code() << " '"
                                         << c.close_reason() << "'";
  return ::testing::AssertionSuccess();
}

std::string sid_free(const std::string& frame) {
  return std::regex_replace(frame, std::regex{R"("sid":"[0-9a-f]{16}#\d+")"}, R"("sid":"S")");
}


} // namespace

TEST(auth_header, a_bearer_token_opens_its_own_private_topics_and_no_one_elses) {
  node_process node{hs256_node()};
  ws_client alice{node.port(), "/v1", http_header{"Authorization", "Bearer " + token_for("alice")}};
  EXPECT_EQ(subscribe(alice, "orders:alice"), ack(1, "orders:alice"));
  EXPECT_EQ(subscribe(alice, "orders:bob", 2),
            R"({"type":"error","id":2,"code":"forbidden","message":"orders:bob is a private topic of another user"})");
  EXPECT_EQ(subscribe(alice, "trade@BTC", 3), ack(3, "trade@BTC"));
  ASSERT_EQ(publish(node.port(), "orders:alice", R"({"fill":1})"), 200);
  EXPECT_NE(next(alice).find(R"("topic":"orders:alice")"), std::string::npos);

  ws_client anonymous{node.port(), "/v1"};
  EXPECT_EQ(subscribe(anonymous, "wallet:alice", 4),
            R"({"type":"error","id":4,"code":"unauthorized","message":"wallet:alice is a private topic: present a token of its owner"})");
  EXPECT_EQ(subscribe(anonymous, "trade@BTC", 5), ack(5, "trade@BTC")) << "public topics stay open";
  EXPECT_EQ(node_metric(node.port(), "tickgate_auth_accepted_total"), 1);
  EXPECT_EQ(node_metric(node.port(), "tickgate_auth_denied_total"), 2);
}

TEST(auth_header, the_JWT_SECRET_environment_variable_configures_hs256) {
  setenv("JWT_SECRET", secret.c_str(), 1);
  node_process node;
  unsetenv("JWT_SECRET");
  ws_client alice{node.port(), "/v1", http_header{"Authorization", "Bearer " + token_for("alice")}};
  EXPECT_EQ(subscribe(alice, "user:alice"), ack(1, "user:alice"));
}

TEST(auth_header, an_expired_or_forged_bearer_token_closes_the_connection_with_4001) {
  node_process node{hs256_node()};
  ws_client expired{node.port(), "/v1", http_header{"Authorization", "Bearer " + expired_token("alice")}};
  EXPECT_TRUE(closes_with(expired, 4001, "unauthorized: token expired"));
  ws_client forged{node.port(), "/v1", http_header{"Authorization", "Bearer " + forged_token("alice")}};
  EXPECT_TRUE(closes_with(forged, 4001, "unauthorized: token signature is invalid"));
  EXPECT_EQ(node_metric(node.port(), R"(tickgate_auth_failures_total{reason="expired"})"), 1);
  EXPECT_EQ(node_metric(node.port(), R"(tickgate_auth_failures_total{reason="bad_signature"})"), 1);
}

TEST(auth_query, a_token_parameter_works_for_dialects_without_an_auth_frame) {
  node_process node{hs256_node()};
  ws_client stream{node.port(), "/stream?token=" + token_for("alice")};
  stream.send_text(R"({"method":"SUBSCRIBE","params":["positions:alice"],"id":1})");
  EXPECT_EQ(next(stream), R"({"result":null,"id":1})");
  stream.send_text(R"({"method":"SUBSCRIBE","params":["positions:bob"],"id":2})");
  EXPECT_EQ(next(stream),
            R"({"error":{"code":2,"msg":"positions:bob is a private topic of another user"},"id":2})");
  ASSERT_EQ(publish(node.port(), "positions:alice", R"({"qty":3})"), 200);
  EXPECT_EQ(next(stream), R"({"stream":"positions:alice","data":{"qty":3}})");

  ws_client expired{node.port(), "/v1?token=" + expired_token("alice")};
  EXPECT_TRUE(closes_with(expired, 4001, "unauthorized: token expired"));
  ws_client forged{node.port(), "/stream?token=" + forged_token("alice")};
  EXPECT_TRUE(closes_with(forged, 4001, "unauthorized: token signature is invalid"));
}

TEST(auth_frame, authenticates_an_anonymous_connection_and_refuses_bad_tokens) {
  node_process node{hs256_node()};
  ws_client c{node.port(), "/v1"};
  c.send_text(R"({"op":"auth","id":1,"token":")" + expired_token("alice") + R"("})");
  EXPECT_EQ(next(c), R"({"type":"error","id":1,"code":"unauthorized","message":"token expired"})");
  c.send_text(R"({"op":"auth","id":2,"token":")" + forged_token("alice") + R"("})");
  EXPECT_EQ(next(c),
            R"({"type":"error","id":2,"code":"unauthorized","message":"token signature is invalid"})");
  EXPECT_EQ(subscribe(c, "orders:alice", 3).find(R"("code":"unauthorized")") != std::string::npos,
            true);
  c.send_text(R"({"op":"auth","id":4,"token":")" + token_for("alice") + R"("})");
  EXPECT_EQ(next(c), R"({"type":"ack","id":4,"op":"auth"})");
  EXPECT_EQ(subscribe(c, "orders:alice", 5), ack(5, "orders:alice"));
  EXPECT_EQ(subscribe(c, "orders:bob", 6),
            R"({"type":"error","id":6,"code":"forbidden","message":"orders:bob is a private topic of another user"})");
  // The connection keeps working after refusals.
  c.send_text(R"({"op":"ping","id":7})");
  EXPECT_NE(next(c).find(R"("type":"pong","id":7)"), std::string::npos);
}

TEST(auth_expiry, private_subscriptions_close_when_the_token_expires_unless_refreshed) {
  node_process node{hs256_node()};
  auto short_lived = token_for("alice", 2);
  ws_client lapsing{node.port(), "/v1", http_header{"Authorization", "Bearer " + short_lived}};
  ws_client refreshing{node.port(), "/v1?token=" + short_lived};
  for (auto* c : {&lapsing, &refreshing}) {
    EXPECT_EQ(subscribe(*c, "orders:alice", 1), ack(1, "orders:alice"));
    EXPECT_EQ(subscribe(*c, "trade@ETH", 2), ack(2, "trade@ETH"));
  }
  refreshing.send_text(R"({"op":"auth","id":3,"token":")" + token_for("alice", 300) + R"("})");
  EXPECT_EQ(next(refreshing), R"({"type":"ack","id":3,"op":"auth"})");

  EXPECT_EQ(next(lapsing, 5000ms),
            R"({"type":"error","code":"unauthorized","message":"token expired; subscriptions closed: orders:alice"})");
  std::this_thread::sleep_for(300ms); // the refreshed client's old timer has fired too
  ASSERT_EQ(publish(node.port(), "orders:alice", R"({"fill":2})"), 200);
  ASSERT_EQ(publish(node.port(), "trade@ETH", R"({"p":1})"), 200);
  EXPECT_NE(next(refreshing).find(R"("topic":"orders:alice")"), std::string::npos);
  EXPECT_NE(next(refreshing).find(R"("topic":"trade@ETH")"), std::string::npos);
  EXPECT_NE(next(lapsing).find(R"("topic":"trade@ETH")"), std::string::npos)
    << "public subscriptions survive the expiry";
  EXPECT_FALSE(lapsing.read(300ms));
  EXPECT_EQ(subscribe(lapsing, "orders:alice", 4).find(R"("code":"unauthorized")") != std::string::npos,
            true);
  EXPECT_EQ(node_metric(node.port(), "tickgate_auth_expired_total"), 1);
  EXPECT_EQ(node_metric(node.port(), "tickgate_auth_revoked_total"), 1);
}

TEST(auth_frame, works_in_protobuf_too) {
  node_process node{hs256_node()};
  ws_client c{node.port(), "/v1"};
  auto send_auth = [&](uint64_t id, const std::string& token) {
    tickgate::v1::ClientFrame f;
    f.set_id(id);
    f.mutable_auth()->set_token(token);
    c.send_binary(f.SerializeAsString());
    tickgate::v1::ServerFrame reply;
    auto m = c.read();
    EXPECT_TRUE(m && m->binary && reply.ParseFromString(m->data));
    return reply;
  };
  auto refused = send_auth(1, forged_token("alice"));
  ASSERT_TRUE(refused.has_error());
  EXPECT_EQ(refused.error().id(), 1u);
  EXPECT_EQ(refused.error().code(), tickgate::v1::ERROR_CODE_UNAUTHORIZED);
  auto accepted = send_auth(2, token_for("alice"));
  ASSERT_TRUE(accepted.has_ack());
  EXPECT_EQ(accepted.ack().id(), 2u);
  EXPECT_EQ(accepted.ack().op(), "auth");
}

TEST(auth_config, a_missing_key_file_or_a_pattern_without_id_stops_the_node_with_a_clear_error) {
  auto missing = run_command("timeout 10 " + tickgate_binary()
                             + " --ws.port=0 --admin.port=0 --auth.jwt-public-key-file=/nonexistent.pem");
  EXPECT_EQ(missing.code, 2) << missing.out;
  EXPECT_NE(missing.out.find("auth.jwt-public-key-file: cannot read a PEM key from '/nonexistent.pem'"),
            std::string::npos) << missing.out;
  auto pattern = run_command("timeout 10 " + tickgate_binary()
                             + " --ws.port=0 --admin.port=0 '--auth.private-topics=[\"orders:\"]'");
  EXPECT_EQ(pattern.code, 2) << pattern.out;
  EXPECT_NE(pattern.out.find("auth.private-topics: 'orders:' has no {id}"), std::string::npos)
    << pattern.out;
}

TEST(auth_frame, reauthenticating_as_another_user_closes_the_previous_users_topics) {
  node_process node{hs256_node()};
  ws_client c{node.port(), "/v1?token=" + token_for("alice")};
  EXPECT_EQ(subscribe(c, "wallet:alice", 1), ack(1, "wallet:alice"));
  c.send_text(R"({"op":"auth","id":2,"token":")" + token_for("bob") + R"("})");
  EXPECT_EQ(next(c),
            R"({"type":"error","code":"forbidden","message":"authenticated as another user; subscriptions closed: wallet:alice"})");
  EXPECT_EQ(next(c), R"({"type":"ack","id":2,"op":"auth"})");
  EXPECT_EQ(subscribe(c, "wallet:bob", 3), ack(3, "wallet:bob"));
}

TEST(auth_rs256, a_public_key_from_JWT_PUBLIC_KEY_FILE_verifies_rs256_and_refuses_alg_confusion) {
  auto keys = make_rsa_key_pair();
  std::string path = "/tmp/tickgate-auth-test-" + std::to_string(getpid()) + ".pem";
  std::ofstream{path} << keys.public_pem;
  setenv("JWT_PUBLIC_KEY_FILE", path.c_str(), 1);
  node_process node;
  unsetenv("JWT_PUBLIC_KEY_FILE");
  std::remove(path.c_str());

  token_spec t;
  t.alg = "RS256";
  t.key = keys.private_pem;
  t.sub = "carol";
  t.exp = now_s() + 300;
  ws_client carol{node.port(), "/v1", http_header{"Authorization", "Bearer " + t.sign()}};
  EXPECT_EQ(subscribe(carol, "user:carol"), ack(1, "user:carol"));

  token_spec forged = t; // signed with the (public) key as an HMAC secret
  forged.alg = "HS256";
  forged.key = keys.public_pem;
  ws_client confused{node.port(), "/v1", http_header{"Authorization", "Bearer " + forged.sign()}};
  EXPECT_TRUE(closes_with(confused, 4001, "token algorithm HS256 is not accepted"));

  token_spec other = t;
  other.key = make_rsa_key_pair().private_pem;
  ws_client wrong_key{node.port(), "/v1?token=" + other.sign()};
  EXPECT_TRUE(closes_with(wrong_key, 4001, "token signature is invalid"));
}

TEST(auth_socketio, the_connect_auth_token_identifies_the_client_and_guards_admin) {
  node_process node{hs256_node()};
  const std::string path = "/socket.io/?EIO=4&transport=websocket";
  ws_client c{node.port(), path};
  next(c); // Engine.IO open
  c.send_text(R"(40{"token":")" + token_for("alice") + R"("})");
  EXPECT_EQ(sid_free(next(c)), R"(40{"sid":"S"})");
  EXPECT_EQ(sid_free(next(c)), R"(42["connected",{"sid":"S","namespace":"/"}])");
  c.send_text(R"(421["join_room",{"room":"user:alice"}])");
  EXPECT_EQ(next(c), R"(431[{"success":true,"room":"user:alice","positions":{"user:alice":{"epoch":"E","seq":0}}}])");
  c.send_text(R"(422["join_room",{"room":"user:bob"}])");
  EXPECT_EQ(next(c),
            R"(432[{"success":false,"error":"user:bob is a private topic of another user","code":"forbidden"}])");
  ASSERT_EQ(publish(node.port(), "user:alice", R"({"note":"hi"})"), 200);
  EXPECT_EQ(next(c), R"(42["user_update",{"note":"hi"}])");
  c.send_text("40/admin,");
  EXPECT_EQ(next(c),
            R"(44/admin,{"message":"forbidden: namespace /admin needs role admin","data":{"code":"forbidden"}})");
  c.send_text(R"(42/admin,3["join_room",{"room":"price:X"}])");
  EXPECT_EQ(next(c),
            R"(43/admin,3[{"success":false,"error":"namespace /admin is not connected","code":"forbidden"}])");

  ws_client expired{node.port(), path};
  next(expired);
  expired.send_text(R"(40{"token":")" + expired_token("alice") + R"("})");
  EXPECT_EQ(next(expired),
            R"(44{"message":"unauthorized: token expired","data":{"code":"unauthorized"}})");

  ws_client forged{node.port(), path};
  next(forged);
  forged.send_text(R"(40/prices,{"token":")" + forged_token("alice") + R"("})");
  EXPECT_EQ(next(forged),
            R"(44/prices,{"message":"unauthorized: token signature is invalid","data":{"code":"unauthorized"}})");
  forged.send_text("40/prices,"); // without the token the namespace opens anonymously
  EXPECT_EQ(sid_free(next(forged)), R"(40/prices,{"sid":"S"})");

  ws_client anonymous{node.port(), path};
  next(anonymous);
  anonymous.send_text("40/admin,");
  EXPECT_EQ(next(anonymous),
            R"(44/admin,{"message":"unauthorized: namespace /admin needs role admin","data":{"code":"unauthorized"}})");

  ws_client admin{node.port(), path};
  next(admin);
  admin.send_text(R"(40/admin,{"token":")" + token_for("root", 300, "admin") + R"("})");
  EXPECT_EQ(sid_free(next(admin)), R"(40/admin,{"sid":"S"})");
  EXPECT_EQ(sid_free(next(admin)), R"(42/admin,["connected",{"sid":"S","namespace":"/admin"}])");
}

TEST(auth_expiry, an_admin_whose_token_expires_leaves_the_admin_namespace) {
  node_process node{hs256_node()};
  ws_client c{node.port(), "/socket.io/?EIO=4&transport=websocket"};
  next(c);
  c.send_text(R"(40/admin,{"token":")" + token_for("root", 2, "admin") + R"("})");
  EXPECT_EQ(sid_free(next(c)), R"(40/admin,{"sid":"S"})");
  next(c); // connected
  c.send_text(R"(42/admin,1["join_room",{"room":"trade:BTC"}])");
  EXPECT_EQ(next(c), R"(43/admin,1[{"success":true,"room":"trade:BTC","positions":{"trade:BTC":{"epoch":"E","seq":0}}}])");
  EXPECT_EQ(next(c, 5000ms),
            R"(42/admin,["error",{"message":"token expired; subscriptions closed: trade:BTC","code":"unauthorized"}])");
  EXPECT_EQ(next(c), "41/admin,");
  c.send_text(R"(42/admin,2["join_room",{"room":"trade:BTC"}])");
  EXPECT_EQ(next(c),
            R"(43/admin,2[{"success":false,"error":"namespace /admin is not connected","code":"unauthorized"}])");
}

TEST(auth_disabled, without_a_key_tokens_are_refused_and_private_topics_stay_closed) {
  node_process node;
  ws_client c{node.port(), "/v1"};
  c.send_text(R"({"op":"auth","id":1,"token":"x.y.z"})");
  EXPECT_EQ(next(c),
            R"({"type":"error","id":1,"code":"unsupported","message":"authentication is not enabled on this node"})");
  EXPECT_NE(subscribe(c, "orders:alice", 2).find(R"("code":"unauthorized")"), std::string::npos);
  EXPECT_EQ(subscribe(c, "price:BTC", 3), ack(3, "price:BTC"));
}

TEST(auth_socketio, the_unmodified_socket_io_client_authenticates_with_auth_token) {
  node_process node{hs256_node()};
  auto out = "/tmp/tickgate-socketio-auth-" + std::to_string(getpid()) + ".out";
  auto cmd = "node " + std::string{TICKGATE_SOURCE_DIR} + "/tests/socketio/auth_test.js "
             + std::to_string(node.port()) + " " + token_for("alice") + " "
             + expired_token("alice") + " " + token_for("root", 300, "admin") + " > " + out
             + " 2>&1";
  auto status = std::system(cmd.c_str());
  std::ifstream in{out};
  std::string output{std::istreambuf_iterator<char>{in}, {}};
  std::remove(out.c_str());
  EXPECT_EQ(WEXITSTATUS(status), 0) << output;
  EXPECT_NE(output.find("socketio-auth: all checks passed"), std::string::npos) << output;
}
