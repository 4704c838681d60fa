// The real tickgate binary consuming MoonX events from a Kafka cluster
// (tickgate-kafka-mock: librdkafka's mock cluster, 3 brokers, several
// partitions; records produced with kcat): routing of each event type to
// native and Socket.IO clients, committed offsets across a node restart,
// broker outages, bad records.

#include <map>
#include <string>

#include <gtest/gtest.h>
#include <unistd.h>

#include "support/json_fields.hpp"
#include "support/jwt_tokens.hpp"
#include "support/kafka_process.hpp"
#include "support/node_process.hpp"
#include "support/ws_client.hpp"

using namespace std::chrono_literals;
using namespace tickgate::test;

namespace {

constexpr const char* moonx_topics
  = "price.updates:4,order.book.updates:2,trade.notifications:2,portfolio.updates:2,system.alerts:1";

// A group of its own per node run, so tests never share committed offsets.
std::string unique_group(const char* name) {
  return std::string{name} + "-" + std::to_string(getpid()) + "-"
         + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
}

const std::string secret = "tickgate-kafka-test-secret";

// user:{userId} rooms are private: their clients present a token.
std::string token_for(const std::string& user) {
  token_spec t;
  t.key = secret;
  t.sub = user;
  t.exp = now_s() + 300;
  return t.sign();
}

std::vector<std::string> kafka_args(const kafka_process& k, const std::string& group) {
  return {"--kafka.brokers=" + k.bootstrap(), "--kafka.group-id=" + group,
          "--kafka.offset-reset=earliest", "--kafka.lag-interval=100ms",
          "--kafka.session-timeout=6000ms", "--auth.jwt-secret=" + secret};
}

bool is_type(const ws_message& m, const char* type) {
  return !m.binary && json_string(m.data, "type") == type;
}

void subscribe(ws_client& c, const std::vector<std::string>& topics) {
  std::string list;
  for (auto& t : topics)
    list += (list.empty() ? "\"" : ",\"") + t + "\"";
  c.send_text(R"({"op":"subscribe","id":1,"topics":[)" + list + "]}");
  ASSERT_TRUE(c.read_until([](const ws_message& m) { return is_type(m, "ack"); }, 10s));
}

std::optional<ws_message> next_of(ws_client& c, const char* type,
                                  std::chrono::milliseconds t = 10s) {
  return c.read_until([&](const ws_message& m) { return is_type(m, type); }, t);
}

// The next status frame announcing `state` ("feed_down", "feed_up").
std::optional<ws_message> next_status(ws_client& c, const char* state,
                                      std::chrono::milliseconds t = 15s) {
  return c.read_until([&](const ws_message& m) {
    return is_type(m, "status") && json_string(m.data, "state") == state;
  }, t);
}

std::string metrics(const node_process& n) {
  return http_request(n.port(), "GET", "/metrics").body;
}

// The value of the sample `name` (with its labels) in Prometheus text; -1 when absent.
int64_t sample(const std::string& text, const std::string& name) {
  auto at = text.find("\n" + name + " ");
  return at == std::string::npos ? -1 : std::stoll(text.substr(at + name.size() + 2));
}

bool kafka_up(const node_process& n) {
  return http_request(n.port(), "GET", "/health").body.find(R"("kafka":"up")") != std::string::npos;
}

std::string price_record(const std::string& symbol, int n) {
  return R"({"type":"price_update","symbol":")" + symbol + R"(","data":{"price":)"
         + std::to_string(100 + n) + R"(,"n":)" + std::to_string(n) + R"(},"timestamp":1700000000000})";
}

} // namespace

TEST(kafka_feed, each_moonx_event_type_reaches_native_clients_under_its_topic_and_event_name) {
  kafka_process kafka{3, moonx_topics};
  node_process node{kafka_args(kafka, unique_group("route"))};
  ASSERT_TRUE(eventually(std::bind(kafka_up, std::cref(node)), 10s)) << node.log();
  ws_client c{node.port(), "/v1?token=" + token_for("u1")};
  subscribe(c, {"price:BTC-USDC", "orderbook:ETH-USDC", "trade:ETH-USDC", "user:u1"});
  ASSERT_TRUE(kafka.produce("price.updates",
                            {R"({"type":"price_update","symbol":"BTC-USDC","data":{"price":45000.5,"change":2.5,"volume":12},"timestamp":1})"}));
  auto ev = next_of(c, "event");
  ASSERT_TRUE(ev) << node.log();
  EXPECT_EQ(json_string(ev->data, "topic"), "price:BTC-USDC");
  EXPECT_EQ(json_string(ev->data, "event"), "price_update");
  EXPECT_EQ(json_field(ev->data, "data"),
            R"({"symbol":"BTC-USDC","price":45000.5,"change":2.5,"volume":12,"timestamp":1})");

  ASSERT_TRUE(kafka.produce("order.book.updates",
                            {R"({"type":"order_book_update","symbol":"ETH-USDC","data":{"bids":[],"asks":[]},"timestamp":2})"}));
  ev = next_of(c, "event");
  ASSERT_TRUE(ev);
  EXPECT_EQ(json_string(ev->data, "topic"), "orderbook:ETH-USDC");
  EXPECT_EQ(json_string(ev->data, "event"), "order_book_update");

  // One record, two deliveries: the symbol's and the user's personal copy.
  ASSERT_TRUE(kafka.produce("trade.notifications",
                            {R"({"type":"trade_notification","symbol":"ETH-USDC","userId":"u1","data":{"side":"buy"},"timestamp":3})"}));
  std::map<std::string, std::string> trades;
  for (int i = 0; i < 2; ++i) {
    ev = next_of(c, "event");
    ASSERT_TRUE(ev);
    EXPECT_EQ(json_string(ev->data, "event"), "trade_notification");
    trades[json_string(ev->data, "topic")] = json_field(ev->data, "data");
  }
  EXPECT_EQ(trades["trade:ETH-USDC"], R"({"symbol":"ETH-USDC","side":"buy","timestamp":3})");
  EXPECT_EQ(trades["user:u1"], R"({"symbol":"ETH-USDC","side":"buy","timestamp":3,"personal":true})");

  ASSERT_TRUE(kafka.produce("portfolio.updates",
                            {R"({"type":"portfolio_update","userId":"u1","data":{"totalValue":5},"timestamp":4})"}));
  ev = next_of(c, "event");
  ASSERT_TRUE(ev);
  EXPECT_EQ(json_string(ev->data, "topic"), "user:u1");
  EXPECT_EQ(json_string(ev->data, "event"), "portfolio_update");

  // A system alert reaches every client, subscribed or not.
  ws_client idle{node.port(), "/v1"};
  ASSERT_TRUE(kafka.produce("system.alerts",
                            {R"({"type":"system_alert","data":{"level":"warn","message":"m"},"timestamp":5})"}));
  for (auto* client : {&c, &idle}) {
    auto sys = next_of(*client, "system");
    ASSERT_TRUE(sys);
    EXPECT_EQ(json_string(sys->data, "event"), "system_alert");
    EXPECT_EQ(json_field(sys->data, "data"), R"({"level":"warn","message":"m","timestamp":5})");
  }
  auto m = metrics(node);
  EXPECT_NE(m.find("tickgate_kafka_records_routed_total 5"), std::string::npos) << m;
  EXPECT_NE(m.find("tickgate_kafka_up 1"), std::string::npos);
  // tickgatectl: info names the brokers; the feed's entry its group and Kafka topics.
  auto ctl = tickgate_binary() + "ctl --node 127.0.0.1:" + std::to_string(node.admin_port());
  auto info = run_command(ctl + " --json info");
  EXPECT_NE(info.out.find(R"("kafka":")" + kafka.bootstrap()), std::string::npos) << info.out;
  auto feeds = run_command(ctl + " --json actors");
  EXPECT_NE(feeds.out.find(R"("kafka_topics":["price.updates")"), std::string::npos) << feeds.out;
}

TEST(kafka_feed, the_moonx_readme_client_code_works_unchanged_with_socket_io_client) {
  kafka_process kafka{3, moonx_topics};
  node_process node{kafka_args(kafka, unique_group("moonx"))};
  ASSERT_TRUE(eventually(std::bind(kafka_up, std::cref(node)), 10s)) << node.log();
  auto script = std::string{TICKGATE_SOURCE_DIR} + "/tests/socketio/kafka_moonx_test.js";
  auto r = run_command("node " + script + " " + std::to_string(node.port()) + " '"
                       + kafka.bootstrap() + "' " + token_for("your-user-id"));
  EXPECT_EQ(r.code, 0) << r.out << node.log();
  EXPECT_NE(r.out.find("moonx: all checks passed"), std::string::npos) << r.out;
}

TEST(kafka_feed, bad_records_are_skipped_counted_and_never_block_their_partition) {
  kafka_process kafka{3, "price.updates:1"};
  node_process node{kafka_args(kafka, unique_group("bad"))};
  ASSERT_TRUE(eventually(std::bind(kafka_up, std::cref(node)), 10s)) << node.log();
  ws_client c{node.port(), "/v1"};
  subscribe(c, {"price:OK"});
  ASSERT_TRUE(kafka.produce("price.updates",
                            {"not json", R"({"type":"candle","data":{}})",
                             R"({"type":"price_update","data":{"price":1}})",
                             R"({"type":"price_update","symbol":"bad symbol","data":{}})",
                             price_record("OK", 1)},
                            0));
  auto ev = next_of(c, "event");
  ASSERT_TRUE(ev) << node.log();
  EXPECT_EQ(json_field(json_field(ev->data, "data"), "n"), "1");
  std::string m;
  ASSERT_TRUE(eventually([&] {
    m = metrics(node);
    return m.find(R"(tickgate_kafka_consumer_lag{topic="price.updates",partition="0"} 0)")
           != std::string::npos;
  })) << m;
  EXPECT_NE(m.find(R"(tickgate_kafka_records_skipped_total{reason="not_json"} 1)"), std::string::npos) << m;
  EXPECT_NE(m.find(R"(tickgate_kafka_records_skipped_total{reason="no_route"} 1)"), std::string::npos);
  EXPECT_NE(m.find(R"(tickgate_kafka_records_skipped_total{reason="missing_field"} 1)"), std::string::npos);
  EXPECT_NE(m.find(R"(tickgate_kafka_records_skipped_total{reason="bad_topic"} 1)"), std::string::npos);
  EXPECT_NE(m.find("tickgate_kafka_records_total 5"), std::string::npos);
  auto stats = http_request(node.port(), "GET", "/api/stats").body;
  EXPECT_NE(stats.find(R"("not_json":1)"), std::string::npos) << stats;
}

TEST(kafka_feed, a_restarted_node_continues_from_the_committed_offsets_through_a_broker_outage) {
  kafka_process kafka{3, "price.updates:4"};
  auto group = unique_group("resume");
  const std::vector<std::string> symbols{"S0", "S1", "S2", "S3"};
  auto produce_range = [&](int from, int to) {
    for (int p = 0; p < 4; ++p) {
      std::vector<std::string> recs;
      for (int n = from; n < to; ++n)
        recs.push_back(price_record(symbols[p], n));
      ASSERT_TRUE(kafka.produce("price.updates", recs, p));
    }
  };
  // Reads events until every symbol reached `last`; returns the n's per symbol.
  auto collect = [&](ws_client& c, int last) {
    std::map<std::string, std::vector<int>> seen;
    auto done = [&] {
      for (auto& s : symbols)
        if (seen[s].empty() || seen[s].back() != last)
          return false;
      return true;
    };
    while (!done()) {
      auto ev = next_of(c, "event");
      if (!ev)
        break;
      auto topic = json_string(ev->data, "topic");
      seen[topic.substr(6)].push_back(std::stoi(json_field(json_field(ev->data, "data"), "n")));
    }
    return seen;
  };
  std::vector<std::string> topics;
  for (auto& s : symbols)
    topics.push_back("price:" + s);
  {
    node_process a{kafka_args(kafka, group)};
    ASSERT_TRUE(eventually(std::bind(kafka_up, std::cref(a)), 10s)) << a.log();
    ws_client c{a.port(), "/v1"};
    subscribe(c, topics);
    produce_range(0, 50);
    auto seen = collect(c, 49);
    for (auto& s : symbols) {
      ASSERT_EQ(seen[s].size(), 50u) << s << a.log();
      for (int n = 0; n < 50; ++n)
        ASSERT_EQ(seen[s][n], n) << s;
    }
    EXPECT_EQ(a.stop(SIGTERM, 10s), 0) << a.log(); // leaves the group, offsets committed
  }
  produce_range(50, 100); // while no node consumes
  // The next node starts with every broker down: degraded, clients wait.
  ASSERT_EQ(kafka.control("broker all down"), "ok");
  node_process b{kafka_args(kafka, group)};
  ws_client c{b.port(), "/v1"};
  subscribe(c, topics);
  auto health = http_request(b.port(), "GET", "/health").body;
  EXPECT_NE(health.find(R"("status":"degraded")"), std::string::npos) << health;
  EXPECT_NE(health.find(R"("kafka":"down")"), std::string::npos) << health;
  EXPECT_EQ(http_request(b.port(), "GET", "/ready").status, 503);
  ASSERT_EQ(kafka.control("broker all up"), "ok");
  ASSERT_TRUE(next_status(c, "feed_up")) << b.log();
  auto seen = collect(c, 99);
  for (auto& s : symbols) {
    // At least once, in order: from where the first node committed (50; an
    // earlier start would mean records delivered twice, never lost), no gap.
    ASSERT_FALSE(seen[s].empty()) << s << b.log();
    EXPECT_LE(seen[s].front(), 50) << s;
    EXPECT_GE(seen[s].front(), 0) << s;
    for (size_t i = 1; i < seen[s].size(); ++i)
      ASSERT_EQ(seen[s][i], seen[s][i - 1] + 1) << s;
    EXPECT_EQ(seen[s].back(), 99) << s;
  }
  EXPECT_TRUE(eventually([&] { return kafka_up(b); }));
}

TEST(kafka_feed, a_broker_outage_reports_the_feed_down_to_clients_and_up_again) {
  kafka_process kafka{3, "price.updates:3"};
  node_process node{kafka_args(kafka, unique_group("outage"))};
  ASSERT_TRUE(eventually(std::bind(kafka_up, std::cref(node)), 10s)) << node.log();
  ws_client c{node.port(), "/v1"};
  subscribe(c, {"price:X"});
  ASSERT_EQ(kafka.control("broker all down"), "ok");
  auto down = next_status(c, "feed_down");
  ASSERT_TRUE(down) << node.log();
  EXPECT_NE(down->data.find("kafka unavailable"), std::string::npos) << down->data;
  EXPECT_NE(http_request(node.port(), "GET", "/health").body.find("kafka unavailable"),
            std::string::npos);
  ASSERT_EQ(kafka.control("broker all up"), "ok");
  ASSERT_TRUE(next_status(c, "feed_up")) << node.log();
  // Deliveries resume on the same connection.
  ASSERT_TRUE(eventually([&] {
    kafka.produce("price.updates", {price_record("X", 7)});
    return next_of(c, "event", 1s).has_value();
  }, 15s));
  EXPECT_GT(sample(metrics(node), "tickgate_kafka_connection_errors_total"), 0)
    << "connection errors are counted";
}

TEST(kafka_feed, consumer_lag_counts_records_read_but_not_committed_until_the_shutdown_commit) {
  kafka_process kafka{3, "price.updates:1"};
  auto group = unique_group("lag");
  const std::string lag = R"(tickgate_kafka_consumer_lag{topic="price.updates",partition="0"})";
  {
    // No periodic commit: what this node reads stays lag until it stops.
    auto args = kafka_args(kafka, group);
    args.push_back("--kafka.commit-interval=1h");
    node_process a{args};
    ASSERT_TRUE(eventually(std::bind(kafka_up, std::cref(a)), 10s)) << a.log();
    ws_client c{a.port(), "/v1"};
    subscribe(c, {"price:L"});
    std::vector<std::string> recs;
    for (int n = 0; n < 20; ++n)
      recs.push_back(price_record("L", n));
    ASSERT_TRUE(kafka.produce("price.updates", recs, 0));
    for (int n = 0; n < 20; ++n) {
      auto ev = next_of(c, "event");
      ASSERT_TRUE(ev) << a.log();
    }
    EXPECT_TRUE(eventually([&] { return sample(metrics(a), lag) == 20; })) << metrics(a);
    EXPECT_EQ(a.stop(SIGTERM, 10s), 0) << a.log(); // commits synchronously on the way out
  }
  node_process b{kafka_args(kafka, group)};
  ASSERT_TRUE(eventually(std::bind(kafka_up, std::cref(b)), 10s)) << b.log();
  ws_client c{b.port(), "/v1"};
  subscribe(c, {"price:L"});
  // The group hands the partition over once the coordinator lets go of the
  // first member: seconds with the mock cluster.
  ASSERT_TRUE(eventually([&] { return sample(metrics(b), lag) == 0; }, 15s)) << metrics(b);
  ASSERT_TRUE(kafka.produce("price.updates", {price_record("L", 20)}, 0));
  auto ev = next_of(c, "event");
  ASSERT_TRUE(ev) << b.log();
  EXPECT_EQ(json_field(json_field(ev->data, "data"), "n"), "20") << "nothing read twice";
}
