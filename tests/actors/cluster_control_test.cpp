// Cluster-wide operator commands (actors/cluster_control.hpp): which commands
// a member runs for another, and how the members' answers are merged.

#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "actors/cluster_control.hpp"

using tickgate::is_cluster_command;
using tickgate::merge_answers;
using tickgate::node_answer;

namespace {

std::vector<std::string> strings(simdjson::dom::element list, const char* key = nullptr) {
  std::vector<std::string> out;
  for (auto e : list.get_array())
    out.emplace_back(key ? e[key].get_string().value() : e.get_string().value());
  return out;
}

} // namespace

TEST(cluster_command, only_listings_a_kick_by_user_and_a_broadcast_run_for_a_member) {
  EXPECT_TRUE(is_cluster_command("topics", {}));
  EXPECT_TRUE(is_cluster_command("connections", {}));
  EXPECT_TRUE(is_cluster_command("info", {}));
  EXPECT_TRUE(is_cluster_command("kick", {"", "alice"}));
  EXPECT_TRUE(is_cluster_command("broadcast", {R"({"m":1})"}));
  EXPECT_FALSE(is_cluster_command("kick", {"12", ""})); // connection ids are per node
  EXPECT_FALSE(is_cluster_command("kick", {"", ""}));
  EXPECT_FALSE(is_cluster_command("topics", {"cluster"}));
  for (auto* other : {"maintenance", "publish", "restart", "show", "stats", "actors", "nodes"})
    EXPECT_FALSE(is_cluster_command(other, {})) << other;
}

TEST(cluster_merge_answers, labels_every_row_with_its_node_and_lists_who_did_not_answer) {
  std::vector<node_answer> answers{
    {"n1", R"({"ok":true,"topics":[{"name":"a","subscribers":2},{"name":"b","subscribers":1}]})", ""},
    {"n2", R"({"ok":true,"topics":[{"name":"a","subscribers":3}]})", ""},
    {"n3", "", "no answer within 3 s"},
    {"n4", "", "member is down: not asked"},
  };
  auto json = merge_answers("topics", answers);
  simdjson::dom::parser parser;
  auto doc = parser.parse(json);
  ASSERT_FALSE(doc.error()) << json;
  EXPECT_TRUE(doc["ok"].get_bool().value());
  simdjson::dom::element rows = doc["topics"];
  EXPECT_EQ(strings(rows, "node"), (std::vector<std::string>{"n1", "n1", "n2"}));
  EXPECT_EQ(strings(rows, "name"), (std::vector<std::string>{"a", "b", "a"}));
  EXPECT_EQ(rows.at(2)["subscribers"].get_int64().value(), 3);
  EXPECT_EQ(strings(doc["answered"]), (std::vector<std::string>{"n1", "n2"}));
  EXPECT_EQ(strings(doc["unreachable"], "node"), (std::vector<std::string>{"n3", "n4"}));
  EXPECT_EQ(std::string{doc["unreachable"].at(0)["error"].get_string().value()},
            "no answer within 3 s");
  EXPECT_EQ(doc["failed"].get_array().size(), 0u);
}

TEST(cluster_merge_answers, keeps_an_empty_row_and_a_member_without_rows) {
  auto json = merge_answers("connections", {{"n1", R"({"ok":true,"connections":[{}]})", ""},
                                            {"n2", R"({"ok":true,"connections":[]})", ""}});
  EXPECT_EQ(json, R"({"ok":true,"connections":[{"node":"n1"}],"answered":["n1","n2"],)"
                  R"("unreachable":[],"failed":[]})");
}

TEST(cluster_merge_answers, info_keeps_each_answer_and_totals_what_adds_up) {
  std::vector<node_answer> answers{
    {"n1", R"({"ok":true,"node":{"id":"n1"},"connections":2,"subscriptions":3,"topics":2,"events_in":10,"events_out":20,"topic_restarts":0})", ""},
    {"n2", R"({"ok":true,"node":{"id":"n2"},"connections":1,"subscriptions":1,"topics":1,"events_in":5,"events_out":5,"topic_restarts":1})", ""},
    {"n3", "", "no answer within 3 s"},
  };
  auto json = merge_answers("info", answers);
  simdjson::dom::parser parser;
  auto doc = parser.parse(json);
  ASSERT_FALSE(doc.error()) << json;
  EXPECT_EQ(strings(doc["nodes"], "node"), (std::vector<std::string>{"n1", "n2"}));
  simdjson::dom::element first = doc["nodes"].at(0)["info"];
  EXPECT_EQ(std::string{first["node"]["id"].get_string().value()}, "n1");
  EXPECT_TRUE(first["ok"].error()); // the answer's "ok" is the merged answer's
  simdjson::dom::element total = doc["total"];
  EXPECT_EQ(total["nodes"].get_int64().value(), 2);
  EXPECT_EQ(total["connections"].get_int64().value(), 3);
  EXPECT_EQ(total["subscriptions"].get_int64().value(), 4);
  EXPECT_EQ(total["topics"].get_int64().value(), 3);
  EXPECT_EQ(total["events_in"].get_int64().value(), 15);
  EXPECT_EQ(total["events_out"].get_int64().value(), 25);
  EXPECT_EQ(total["topic_restarts"].get_int64().value(), 1);
  EXPECT_EQ(strings(doc["unreachable"], "node"), (std::vector<std::string>{"n3"}));
}

TEST(cluster_merge_answers, a_kick_counts_per_node_and_a_member_without_the_user_counts_zero) {
  std::vector<node_answer> answers{
    {"n1", R"({"ok":true,"kicked":2})", ""},
    {"n2", R"({"ok":false,"code":"not_found","error":"no connection of user 'u'"})", ""},
    {"n3", R"({"ok":true,"kicked":1})", ""},
    {"n4", "", "no answer within 3 s"},
  };
  auto json = merge_answers("kick", answers);
  EXPECT_EQ(json, R"({"ok":true,"kicked":3,"nodes":[{"node":"n1","kicked":2},)"
                  R"({"node":"n2","kicked":0},{"node":"n3","kicked":1}],)"
                  R"("answered":["n1","n2","n3"],)"
                  R"("unreachable":[{"node":"n4","error":"no answer within 3 s"}],"failed":[]})");
}

TEST(cluster_merge_answers, a_kick_that_finds_the_user_nowhere_fails_as_on_one_node) {
  auto none = R"({"ok":false,"code":"not_found","error":"no connection of user 'u'"})";
  auto json = merge_answers("kick", {{"n1", none, ""}, {"n2", none, ""}, {"n3", "", "down"}});
  EXPECT_EQ(json, R"({"ok":false,"code":"not_found","error":"no connection of user 'u' )"
                  R"(on any member that answered; unreachable: n3"})");
}

TEST(cluster_merge_answers, a_broadcast_counts_clients_and_reports_a_failed_member) {
  std::vector<node_answer> answers{
    {"n1", R"({"ok":true,"clients":4})", ""},
    {"n2", R"({"ok":false,"code":"denied","error":"access denied"})", ""},
    {"n3", "not json", ""},
  };
  auto json = merge_answers("broadcast", answers);
  EXPECT_EQ(json, R"({"ok":true,"clients":4,"nodes":[{"node":"n1","clients":4}],)"
                  R"("answered":["n1"],"unreachable":[],)"
                  R"("failed":[{"node":"n2","code":"denied","error":"access denied"},)"
                  R"({"node":"n3","code":"internal","error":"unreadable answer"}]})");
}
