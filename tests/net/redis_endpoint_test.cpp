#include "net/redis_endpoint.hpp"

#include <gtest/gtest.h>

using tickgate::net::redis_endpoint;

namespace {

redis_endpoint parse(std::string_view url) {
  std::string err;
  auto ep = redis_endpoint::parse(url, err);
  EXPECT_TRUE(ep) << url << ": " << err;
  return ep.value_or(redis_endpoint{});
}

bool rejects(std::string_view url) {
  std::string err;
  return !redis_endpoint::parse(url, err) && !err.empty();
}

} // namespace

TEST(redis_endpoint, reads_host_port_and_database) {
  auto ep = parse("redis://10.1.2.3:6380/4");
  EXPECT_EQ(ep.host, "10.1.2.3");
  EXPECT_EQ(ep.port, 6380);
  EXPECT_EQ(ep.db, 4);
  EXPECT_TRUE(ep.password.empty());
  auto def = parse("redis://localhost");
  EXPECT_EQ(def.host, "localhost");
  EXPECT_EQ(def.port, 6379);
  EXPECT_EQ(def.db, 0);
}

TEST(redis_endpoint, reads_password_user_and_escapes) {
  auto pw = parse("redis://:s3cret@host:1/0");
  EXPECT_EQ(pw.password, "s3cret");
  EXPECT_TRUE(pw.user.empty());
  auto user = parse("redis://alice:p%40ss@host");
  EXPECT_EQ(user.user, "alice");
  EXPECT_EQ(user.password, "p@ss");
  auto bare = parse("redis://onlypass@host");
  EXPECT_EQ(bare.password, "onlypass");
  EXPECT_EQ(parse("redis://[::1]:7000").host, "::1");
}

TEST(redis_endpoint, never_prints_the_password) {
  EXPECT_EQ(parse("redis://:s3cret@h:1/2").describe(), "redis://***@h:1/2");
  EXPECT_EQ(parse("redis://bob:s3cret@h:1").describe(), "redis://bob@h:1/0");
}

TEST(redis_endpoint, rejects_malformed_urls) {
  EXPECT_TRUE(rejects("http://host"));
  EXPECT_TRUE(rejects("redis://host:0"));
  EXPECT_TRUE(rejects("redis://host:99999"));
  EXPECT_TRUE(rejects("redis://host:12ab"));
  EXPECT_TRUE(rejects("redis://host/x"));
  EXPECT_TRUE(rejects("redis://a:%zz@host"));
}
