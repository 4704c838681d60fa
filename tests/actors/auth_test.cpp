// The token verifier and the private-topic rules, with tokens signed by
// libjwt as an identity provider would sign them.

#include <gtest/gtest.h>

#include "actors/auth.hpp"
#include "support/jwt_tokens.hpp"

using namespace tickgate;
using namespace tickgate::test;

namespace {

const std::string secret = "correct horse battery staple";

authenticator hs256(std::chrono::seconds leeway = std::chrono::seconds{5}) {
  auth_settings s;
  s.jwt_secret = secret;
  s.leeway = leeway;
  return authenticator{s};
}

token_spec hs_token() {
  token_spec t;
  t.key = secret;
  t.exp = now_s() + 60;
  return t;
}

} // namespace

TEST(jwt_verifier, a_valid_hs256_token_yields_user_role_and_expiry) {
  auto t = hs_token();
  t.role = "trader";
  auto v = hs256().verify(t.sign(), now_s());
  ASSERT_TRUE(v) << v.message;
  EXPECT_EQ(v.claims->user, "alice");
  EXPECT_EQ(v.claims->role, "trader");
  EXPECT_EQ(v.claims->expires, t.exp);
}

TEST(jwt_verifier, an_expired_token_is_refused_once_past_the_leeway) {
  auto t = hs_token();
  t.exp = now_s() - 3;
  EXPECT_TRUE(hs256(std::chrono::seconds{5}).verify(t.sign(), now_s()))
    << "3 s past exp is inside a 5 s leeway";
  auto v = hs256(std::chrono::seconds{1}).verify(t.sign(), now_s());
  EXPECT_FALSE(v);
  EXPECT_EQ(v.failure, auth_failure::expired);
  EXPECT_EQ(v.message, "token expired");
}

TEST(jwt_verifier, a_token_not_yet_valid_is_refused) {
  auto t = hs_token();
  t.nbf = now_s() + 120;
  auto v = hs256().verify(t.sign(), now_s());
  EXPECT_FALSE(v);
  EXPECT_EQ(v.failure, auth_failure::not_yet_valid);
  t.nbf = now_s() + 2; // within the leeway
  EXPECT_TRUE(hs256().verify(t.sign(), now_s()));
}

TEST(jwt_verifier, a_token_signed_with_another_secret_is_refused) {
  auto t = hs_token();
  t.key = "not the secret";
  auto v = hs256().verify(t.sign(), now_s());
  EXPECT_FALSE(v);
  EXPECT_EQ(v.failure, auth_failure::bad_signature);
}

TEST(jwt_verifier, a_token_without_subject_is_refused) {
  auto t = hs_token();
  t.sub.reset();
  auto v = hs256().verify(t.sign(), now_s());
  EXPECT_FALSE(v);
  EXPECT_EQ(v.failure, auth_failure::missing_subject);
}

TEST(jwt_verifier, garbage_and_unsigned_tokens_are_refused) {
  auto a = hs256();
  EXPECT_EQ(a.verify("", now_s()).failure, auth_failure::malformed);
  EXPECT_EQ(a.verify("not.a.jwt", now_s()).failure, auth_failure::malformed);
  EXPECT_EQ(a.verify(std::string(10000, 'a'), now_s()).failure, auth_failure::malformed);
  auto t = hs_token();
  t.alg = "none";
  EXPECT_EQ(a.verify(t.sign(), now_s()).failure, auth_failure::wrong_alg);
}

TEST(jwt_verifier, rs256_tokens_verify_with_the_public_key) {
  auto keys = make_rsa_key_pair();
  auth_settings s;
  s.jwt_public_key = keys.public_pem;
  authenticator a{s};
  token_spec t;
  t.alg = "RS256";
  t.key = keys.private_pem;
  t.sub = "bob";
  auto v = a.verify(t.sign(), now_s());
  ASSERT_TRUE(v) << v.message;
  EXPECT_EQ(v.claims->user, "bob");
  EXPECT_FALSE(v.claims->expires);

  auto other = make_rsa_key_pair();
  t.key = other.private_pem;
  EXPECT_EQ(a.verify(t.sign(), now_s()).failure, auth_failure::bad_signature);
}

TEST(jwt_verifier, an_hs256_token_keyed_with_the_rs256_public_key_is_refused) {
  // Algorithm confusion: the public key is public, so a verifier that let the
  // token's header choose HMAC would accept anyone's forgery.
  auto keys = make_rsa_key_pair();
  auth_settings s;
  s.jwt_public_key = keys.public_pem;
  authenticator a{s};
  token_spec forged;
  forged.alg = "HS256";
  forged.key = keys.public_pem;
  forged.role = "admin";
  auto v = a.verify(forged.sign(), now_s());
  EXPECT_FALSE(v);
  EXPECT_EQ(v.failure, auth_failure::wrong_alg);
  EXPECT_EQ(v.message, "token algorithm HS256 is not accepted (expected RS256)");
}

TEST(jwt_verifier, without_a_key_every_token_is_refused) {
  authenticator a{auth_settings{}};
  EXPECT_FALSE(a.enabled());
  EXPECT_EQ(a.verify(hs_token().sign(), now_s()).failure, auth_failure::disabled);
}

TEST(private_topics, only_the_owner_may_follow_them_and_public_topics_stay_open) {
  auto a = hs256();
  auth_claims alice{"alice", "", {}};
  auth_claims bob{"bob", "admin", {}};
  EXPECT_EQ(a.access("orders:alice", &alice), topic_access::granted);
  EXPECT_EQ(a.access("orders:alice", &bob), topic_access::forbidden);
  EXPECT_EQ(a.access("orders:alice", nullptr), topic_access::unauthorized);
  EXPECT_EQ(a.access("wallet:alice", &alice), topic_access::granted);
  EXPECT_EQ(a.access("positions:alice:extra", &alice), topic_access::forbidden);
  EXPECT_EQ(a.access("user:", nullptr), topic_access::open) << "no id, no owner";
  EXPECT_EQ(a.access("trade@BTC", nullptr), topic_access::open);
  EXPECT_EQ(a.access("price:ETH", &alice), topic_access::open);
}

TEST(private_topics, patterns_are_configurable_with_a_suffix) {
  auth_settings s;
  s.jwt_secret = secret;
  s.private_topics = {"acct.{id}.fills"};
  authenticator a{s};
  auth_claims carol{"carol", "", {}};
  EXPECT_EQ(a.owner_of("acct.carol.fills"), "carol");
  EXPECT_EQ(a.access("acct.carol.fills", &carol), topic_access::granted);
  EXPECT_EQ(a.access("acct.dave.fills", &carol), topic_access::forbidden);
  EXPECT_EQ(a.access("orders:dave", nullptr), topic_access::open);
}

TEST(admin_role, admin_namespaces_need_the_configured_role) {
  auto a = hs256();
  auth_claims admin{"root", "admin", {}};
  auth_claims trader{"alice", "trader", {}};
  EXPECT_TRUE(a.is_admin(&admin));
  EXPECT_FALSE(a.is_admin(&trader));
  EXPECT_FALSE(a.is_admin(nullptr));
  EXPECT_TRUE(a.is_admin_namespace("/admin"));
  EXPECT_FALSE(a.is_admin_namespace("/prices"));
}

TEST(admin_secret, presented_as_a_token_it_proves_the_admin_role_and_never_expires) {
  auth_settings s;
  s.admin_secret = "s3cret-for-operators";
  authenticator only_secret{s};
  EXPECT_FALSE(only_secret.enabled()); // no JWT key: other tokens stay ignored
  EXPECT_TRUE(only_secret.judges("s3cret-for-operators"));
  EXPECT_FALSE(only_secret.judges(hs_token().sign()));
  auto v = only_secret.verify("s3cret-for-operators", now_s());
  ASSERT_TRUE(v) << v.message;
  EXPECT_EQ(v.claims->user, authenticator::admin_user);
  EXPECT_EQ(v.claims->role, "admin");
  EXPECT_FALSE(v.claims->expires);
  EXPECT_TRUE(only_secret.is_admin(&*v.claims));
  EXPECT_FALSE(only_secret.verify("s3cret-for-operatorz", now_s()));
  EXPECT_FALSE(only_secret.verify("", now_s()));

  s.jwt_secret = secret;
  authenticator both{s};
  EXPECT_TRUE(both.judges("anything at all"));
  EXPECT_TRUE(both.verify("s3cret-for-operators", now_s()));
  EXPECT_TRUE(both.verify(hs_token().sign(), now_s()));
  EXPECT_EQ(both.verify("s3cret", now_s()).failure, auth_failure::malformed);
}

TEST(admin_secret, no_configured_secret_matches_nothing) {
  EXPECT_FALSE(secret_matches("", ""));
  EXPECT_FALSE(secret_matches("", "x"));
  EXPECT_FALSE(secret_matches("abc", "abcd"));
  EXPECT_TRUE(secret_matches("abc", "abc"));
  EXPECT_FALSE(hs256().verify("", now_s())); // no admin secret: "" is no token either
}

TEST(system_topics, are_granted_to_the_admin_role_only) {
  auto a = hs256();
  auth_claims admin{"ops", "admin", std::nullopt};
  auth_claims trader{"alice", "trader", std::nullopt};
  EXPECT_EQ(a.access("$sys:stats", &admin), topic_access::granted);
  EXPECT_EQ(a.access("$sys:stats", &trader), topic_access::forbidden);
  EXPECT_EQ(a.access("$sys:stats", nullptr), topic_access::unauthorized);
  EXPECT_EQ(a.access("sys:stats", nullptr), topic_access::open); // not a system topic
  EXPECT_NE(a.denial_message("$sys:stats", topic_access::forbidden).find("role admin"),
            std::string::npos);
  EXPECT_NE(a.denial_message("user:bob", topic_access::forbidden).find("another user"),
            std::string::npos);
}
