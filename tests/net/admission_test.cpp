// The handshake gate: origins, connection caps and handshake rate.

#include <gtest/gtest.h>

#include "actors/metrics.hpp"
#include "net/admission.hpp"

using namespace std::chrono_literals;
using namespace tickgate::net;

namespace {

const auto t0 = std::chrono::steady_clock::time_point{} + 1h;

std::shared_ptr<admission> gate(admission_settings s) {
  return std::make_shared<admission>(std::move(s));
}

} // namespace

TEST(admission, without_an_allow_list_every_origin_is_welcome) {
  auto g = gate({});
  EXPECT_EQ(g->admit("1.2.3.4", "https://evil.example", t0).reason, refusal::none);
  EXPECT_EQ(g->admit("1.2.3.4", "", t0).reason, refusal::none);
}

TEST(admission, the_allow_list_refuses_other_origins_with_403) {
  admission_settings s;
  s.allowed_origins = {"https://app.example.com", "https://*.trading.example/"};
  auto g = gate(s);
  auto before = tickgate::node_metrics().refused_origin.load();
  EXPECT_EQ(g->admit("ip", "https://app.example.com", t0).reason, refusal::none);
  EXPECT_EQ(g->admit("ip", "HTTPS://APP.EXAMPLE.COM", t0).reason, refusal::none);
  EXPECT_EQ(g->admit("ip", "https://eu.trading.example", t0).reason, refusal::none);
  auto d = g->admit("ip", "https://evil.example", t0);
  EXPECT_EQ(d.reason, refusal::origin);
  EXPECT_EQ(d.status, 403u);
  EXPECT_NE(d.message.find("https://evil.example"), std::string::npos) << d.message;
  EXPECT_FALSE(d.ticket);
  EXPECT_EQ(g->admit("ip", "http://app.example.com", t0).reason, refusal::origin);
  EXPECT_EQ(g->admit("ip", "https://trading.example", t0).reason, refusal::origin);
  EXPECT_EQ(g->admit("ip", "https://app.example.com.evil", t0).reason, refusal::origin);
  EXPECT_EQ(g->admit("ip", "https://x.evil/.trading.example", t0).reason, refusal::origin);
  // Non-browser clients send no Origin.
  EXPECT_EQ(g->admit("ip", "", t0).reason, refusal::none);
  EXPECT_EQ(tickgate::node_metrics().refused_origin.load() - before, 5u);
}

TEST(admission, the_global_cap_refuses_with_503_until_a_ticket_is_dropped) {
  admission_settings s;
  s.max_connections = 2;
  auto g = gate(s);
  auto a = g->admit("a", "", t0);
  auto b = g->admit("b", "", t0);
  ASSERT_TRUE(a.ticket && b.ticket);
  auto c = g->admit("c", "", t0);
  EXPECT_EQ(c.reason, refusal::full);
  EXPECT_EQ(c.status, 503u);
  EXPECT_EQ(g->open(), 2u);
  a.ticket.reset();
  EXPECT_EQ(g->open(), 1u);
  EXPECT_EQ(g->admit("c", "", t0).reason, refusal::none);
}

TEST(admission, the_per_ip_cap_counts_each_address_on_its_own) {
  admission_settings s;
  s.max_connections_per_ip = 2;
  auto g = gate(s);
  auto a1 = g->admit("a", "", t0);
  auto a2 = g->admit("a", "", t0);
  auto a3 = g->admit("a", "", t0);
  EXPECT_EQ(a3.reason, refusal::ip_cap);
  EXPECT_EQ(a3.status, 429u);
  EXPECT_EQ(g->admit("b", "", t0).reason, refusal::none); // its ticket is dropped at once
  a1.ticket.reset();
  EXPECT_EQ(g->admit("a", "", t0).reason, refusal::none);
}

TEST(admission, the_handshake_rate_is_a_token_bucket_per_ip) {
  admission_settings s;
  s.handshake_rate = {2, 3};
  auto g = gate(s);
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(g->admit("a", "", t0).reason, refusal::none) << i;
  auto d = g->admit("a", "", t0);
  EXPECT_EQ(d.reason, refusal::ip_rate);
  EXPECT_EQ(d.status, 429u);
  EXPECT_EQ(g->admit("b", "", t0).reason, refusal::none);
  EXPECT_EQ(g->admit("a", "", t0 + 500ms).reason, refusal::none);
  EXPECT_EQ(g->admit("a", "", t0 + 500ms).reason, refusal::ip_rate);
}

TEST(admission, idle_addresses_are_forgotten_and_the_table_stays_bounded) {
  admission_settings s;
  s.handshake_rate = {10, 10};
  s.max_tracked_ips = 100;
  auto g = gate(s);
  auto held = g->admit("holder", "", t0);
  for (int i = 0; i < 1000; ++i)
    g->admit("10.0.0." + std::to_string(i), "", t0 + std::chrono::milliseconds(i));
  EXPECT_LE(g->tracked_ips(), 100u);
  // Much later a sweep leaves only the address that still holds a connection.
  g->admit("late", "", t0 + 1h);
  EXPECT_EQ(g->tracked_ips(), 2u);
  held.ticket.reset();
  g->admit("later", "", t0 + 2h);
  EXPECT_EQ(g->tracked_ips(), 1u);
}

TEST(admission, tickets_outlive_the_gate_owner) {
  std::shared_ptr<void> ticket;
  {
    admission_settings s;
    s.max_connections_per_ip = 1;
    ticket = gate(s)->admit("a", "", t0).ticket;
  }
  ticket.reset(); // gives the slot back to a gate nobody else holds: no crash
}
