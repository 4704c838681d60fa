#include "actors/cluster_control.hpp"

#include <array>
#include <cstdint>

#include <simdjson.h>

#include "proto/json_writer.hpp"

namespace tickgate {

namespace {

using simdjson::dom::element;
using simdjson::dom::object;

// What info totals over the members: the summary figures that add up.
constexpr std::array<const char*, 6> info_totals{"connections", "subscriptions", "topics",
                                                 "events_in",   "events_out",    "topic_restarts"};

std::string_view string_of(element obj, const char* key) {
  std::string_view s;
  if (obj[key].get_string().get(s))
    return {};
  return s;
}

int64_t number_of(element obj, const char* key) {
  int64_t v = 0;
  if (!obj[key].get_int64().get(v))
    return v;
  uint64_t u = 0;
  if (!obj[key].get_uint64().get(u))
    return static_cast<int64_t>(u);
  return 0;
}

// `row` (a JSON object) with "node": `node` as its first member.
std::string labelled(const std::string& node, element row) {
  auto text = simdjson::minify(row);
  std::string out = "{\"node\":";
  out += json_quoted(node);
  if (text.size() > 2) {
    out += ',';
    out.append(text, 1);
  } else {
    out += '}';
  }
  return out;
}

struct failed_answer {
  std::string node, code, error;
};

} // namespace

bool is_cluster_command(std::string_view command, const std::vector<std::string>& args) {
  if (command == "topics" || command == "connections" || command == "info")
    return args.empty();
  if (command == "kick") // by user only: connection ids are per node
    return args.size() == 2 && args[0].empty() && !args[1].empty();
  if (command == "broadcast")
    return args.size() == 1;
  return false;
}

std::string merge_answers(std::string_view command, const std::vector<node_answer>& answers) {
  bool listing = command == "topics" || command == "connections";
  std::vector<std::string> answered, rows;
  std::vector<failed_answer> failed;
  std::vector<const node_answer*> unreachable;
  std::vector<std::pair<std::string, int64_t>> per_node; // kick, broadcast
  std::array<int64_t, info_totals.size()> totals{};
  int64_t total = 0;
  std::string not_found; // kick: a member's "no connection of user" message
  simdjson::dom::parser parser;
  for (auto& a : answers) {
    if (a.json.empty()) {
      unreachable.push_back(&a);
      continue;
    }
    element doc;
    object fields;
    bool ok = false;
    if (parser.parse(a.json).get(doc) || doc.get_object().get(fields)) {
      failed.push_back({a.node, "internal", "unreadable answer"});
      continue;
    }
    if (doc["ok"].get_bool().get(ok) || !ok) {
      auto code = std::string{string_of(doc, "code")};
      if (command == "kick" && code == "not_found") { // none of the user's here
        not_found = string_of(doc, "error");
        answered.push_back(a.node);
        per_node.emplace_back(a.node, 0);
        continue;
      }
      failed.push_back({a.node, code, std::string{string_of(doc, "error")}});
      continue;
    }
    answered.push_back(a.node);
    if (listing) {
      simdjson::dom::array list;
      if (!doc[command].get_array().get(list))
        for (element row : list)
          rows.push_back(labelled(a.node, row));
    } else if (command == "info") {
      std::string info;
      json_writer w{info};
      w.begin_object();
      for (auto [key, value] : fields)
        if (key != "ok")
          w.key(key).raw(simdjson::minify(value));
      w.end_object();
      for (size_t i = 0; i < info_totals.size(); ++i)
        totals[i] += number_of(doc, info_totals[i]);
      std::string entry;
      json_writer{entry}.begin_object().field("node", a.node).key("info").raw(info).end_object();
      rows.push_back(std::move(entry));
    } else {
      auto n = number_of(doc, command == "kick" ? "kicked" : "clients");
      per_node.emplace_back(a.node, n);
      total += n;
    }
  }

  std::string out;
  json_writer w{out};
  if (command == "kick" && total == 0 && failed.empty()) {
    std::string why = not_found.empty() ? std::string{"no connection of that user"} : not_found;
    why += " on any member that answered";
    for (auto* u : unreachable) {
      why += u == unreachable.front() ? "; unreachable: " : ", ";
      why += u->node;
    }
    w.begin_object().field("ok", false).field("code", "not_found").field("error", why).end_object();
    return out;
  }
  w.begin_object().field("ok", true);
  if (listing) {
    w.key(command).begin_array();
    for (auto& r : rows)
      w.raw(r);
    w.end_array();
  } else if (command == "info") {
    w.key("nodes").begin_array();
    for (auto& r : rows)
      w.raw(r);
    w.end_array().key("total").begin_object().field("nodes", answered.size());
    for (size_t i = 0; i < info_totals.size(); ++i)
      w.field(info_totals[i], totals[i]);
    w.end_object();
  } else {
    auto what = command == "kick" ? "kicked" : "clients";
    w.field(what, total).key("nodes").begin_array();
    for (auto& [node, n] : per_node)
      w.begin_object().field("node", node).field(what, n).end_object();
    w.end_array();
  }
  w.key("answered").begin_array();
  for (auto& n : answered)
    w.value(n);
  w.end_array().key("unreachable").begin_array();
  for (auto* u : unreachable)
    w.begin_object().field("node", u->node).field("error", u->error).end_object();
  w.end_array().key("failed").begin_array();
  for (auto& f : failed)
    w.begin_object().field("node", f.node).field("code", f.code).field("error", f.error).end_object();
  w.end_array().end_object();
  return out;
}

} // namespace tickgate
