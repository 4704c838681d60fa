#include "tools/tickgatectl/render.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include <simdjson.h>

#include "proto/json_writer.hpp"

namespace tickgatectl {

namespace {

using simdjson::dom::element;

struct parsed {
  simdjson::dom::parser parser;
  element doc;
  bool ok = false;
  explicit parsed(const std::string& json) { ok = !parser.parse(json).get(doc); }
};

std::string text(element e) {
  std::string_view s;
  if (!e.get_string().get(s))
    return std::string{s};
  return simdjson::minify(e);
}

std::string field(element obj, const char* key) {
  element v;
  if (obj[key].get(v))
    return "-";
  return text(v);
}

int64_t number(element obj, const char* key) {
  int64_t v = 0;
  if (!obj[key].get_int64().get(v))
    return v;
  uint64_t u = 0;
  if (!obj[key].get_uint64().get(u))
    return static_cast<int64_t>(u);
  return 0;
}

int64_t unix_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string age(int64_t ms) {
  char buf[32];
  if (ms < 0)
    return "-";
  if (ms < 10'000)
    std::snprintf(buf, sizeof buf, "%.1fs", static_cast<double>(ms) / 1000);
  else if (ms < 3'600'000)
    std::snprintf(buf, sizeof buf, "%lldm%02llds", static_cast<long long>(ms / 60000),
                  static_cast<long long>(ms / 1000 % 60));
  else
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", static_cast<long long>(ms / 3600000),
                  static_cast<long long>(ms / 60000 % 60));
  return buf;
}

double rate(element obj, const char* counter) {
  auto ms = number(obj, "age_ms");
  return ms > 0 ? static_cast<double>(number(obj, counter)) * 1000.0 / static_cast<double>(ms)
                : 0.0;
}

void actor_table(element list, size_t max_rows = 0) {
  std::printf("%-8s %-11s %-28s %8s %10s %10s %9s %9s %8s\n", "ID", "KIND", "NAME",
              "MAILBOX", "IN", "OUT", "RATE/s", "AGE", "RESTARTS");
  size_t rows = 0;
  for (element a : list.get_array()) {
    if (max_rows && rows++ >= max_rows)
      break;
    auto name = field(a, "name");
    if (name.size() > 28)
      name = name.substr(0, 25) + "...";
    std::printf("%-8s %-11s %-28s %8lld %10lld %10lld %9.1f %9s %8lld\n",
                field(a, "id").c_str(), field(a, "kind").c_str(), name.c_str(),
                static_cast<long long>(number(a, "mailbox")),
                static_cast<long long>(number(a, "msgs_in")),
                static_cast<long long>(number(a, "msgs_out")), rate(a, "msgs_in"),
                age(number(a, "age_ms")).c_str(), static_cast<long long>(number(a, "restarts")));
  }
}

// Whether the rows carry the member they come from (a --cluster listing).
bool by_node(const std::vector<element>& rows) {
  return !rows.empty() && field(rows.front(), "node") != "-";
}

// A --cluster answer's members that did not answer, or answered a failure;
// one line each after the table.
void print_missing(element doc) {
  simdjson::dom::array list;
  if (!doc["unreachable"].get_array().get(list))
    for (element u : list)
      std::printf("%s: unreachable (%s)\n", field(u, "node").c_str(), field(u, "error").c_str());
  if (!doc["failed"].get_array().get(list))
    for (element f : list)
      std::printf("%s: failed (%s: %s)\n", field(f, "node").c_str(), field(f, "code").c_str(),
                  field(f, "error").c_str());
}

void topic_table(element list, size_t max_rows = 0) {
  std::vector<element> rows;
  for (element t : list.get_array())
    rows.push_back(t);
  bool nodes = by_node(rows);
  if (nodes)
    std::printf("%-12s ", "NODE");
  std::printf("%-32s %6s %10s %-18s %9s %12s %8s %9s %12s %9s\n", "TOPIC", "SUBS", "SEQ",
              "EPOCH", "MSGS/s", "LAST-PUB", "RESTARTS", "RETAINED", "RET-BYTES", "SNAP-AGE");
  if (max_rows)
    std::stable_sort(rows.begin(), rows.end(), [](element a, element b) {
      return rate(a, "msgs_in") > rate(b, "msgs_in");
    });
  size_t n = 0;
  for (auto t : rows) {
    if (max_rows && n++ >= max_rows)
      break;
    auto last = field(t, "last_publish_age_ms");
    // No snapshot retained: "-" (the field is null).
    auto snap = field(t, "snapshot_age_ms");
    if (nodes)
      std::printf("%-12s ", field(t, "node").c_str());
    std::printf("%-32s %6s %10s %-18s %9.1f %12s %8lld %9s %12s %9s\n", field(t, "name").c_str(),
                field(t, "subscribers").c_str(), field(t, "seq").c_str(),
                field(t, "epoch").c_str(), rate(t, "msgs_in"),
                last == "null" ? "never" : age(number(t, "last_publish_age_ms")).c_str(),
                static_cast<long long>(number(t, "restarts")), field(t, "retained").c_str(),
                field(t, "retained_bytes").c_str(),
                snap == "null" || snap == "-" ? "-" : age(number(t, "snapshot_age_ms")).c_str());
  }
}

} // namespace

failure error_of(const std::string& json) {
  parsed p{json};
  if (!p.ok)
    return {"internal", "unreadable answer: " + json};
  return {field(p.doc, "code"), field(p.doc, "error")};
}

void print_info(const std::string& json) {
  parsed p{json};
  element node;
  if (!p.ok || p.doc["node"].get(node))
    return;
  std::printf("node          %s\nversion       %s\nmode          %s\n", field(node, "id").c_str(),
              field(node, "version").c_str(), field(node, "mode").c_str());
  std::printf("ports         ws/http %s, admin %s\n", field(node, "ws_port").c_str(),
              field(node, "admin_port").c_str());
  std::printf("redis         %s%s\n", field(p.doc, "redis").c_str(),
              field(node, "redis") == "-" ? "" : ("  " + field(node, "redis")).c_str());
  std::printf("uptime        %s\n", age(number(p.doc, "uptime_ms")).c_str());
  std::printf("connections   %s\nsubscriptions %s\ntopics        %s\n",
              field(p.doc, "connections").c_str(), field(p.doc, "subscriptions").c_str(),
              field(p.doc, "topics").c_str());
  std::printf("events        %s in, %s out\ntopic restarts %s\n", field(p.doc, "events_in").c_str(),
              field(p.doc, "events_out").c_str(), field(p.doc, "topic_restarts").c_str());
  element maintenance;
  bool on = false;
  if (!p.doc["maintenance"].get(maintenance) && !maintenance["on"].get_bool().get(on) && on)
    std::printf("maintenance   on since %s ago, retry-after %ss: %s\n",
                age(unix_ms() - number(maintenance, "since_ms")).c_str(),
                field(maintenance, "retry_after").c_str(), field(maintenance, "message").c_str());
  else
    std::printf("maintenance   off\n");
  element counts;
  if (!p.doc["counts"].get(counts)) {
    std::printf("actors       ");
    for (auto [k, v] : counts.get_object())
      std::printf(" %s=%s", std::string{k}.c_str(), text(v).c_str());
    std::printf("\n");
  }
}

namespace {

void print_flat(const std::string& prefix, element e) {
  simdjson::dom::object obj;
  if (e.get_object().get(obj)) {
    std::printf("%-40s %s\n", prefix.c_str(), text(e).c_str());
    return;
  }
  for (auto [k, v] : obj)
    print_flat(prefix.empty() ? std::string{k} : prefix + "." + std::string{k}, v);
}

} // namespace

void print_stats(const std::string& json) {
  parsed p{json};
  simdjson::dom::object doc;
  if (!p.ok || p.doc.get_object().get(doc))
    return;
  for (auto [k, v] : doc)
    if (k != "ok")
      print_flat(std::string{k}, v);
}

void print_actors(const std::string& json) {
  parsed p{json};
  element list;
  if (p.ok && !p.doc["actors"].get(list))
    actor_table(list);
}

void print_topics(const std::string& json) {
  parsed p{json};
  element list;
  if (p.ok && !p.doc["topics"].get(list))
    topic_table(list);
  if (p.ok)
    print_missing(p.doc);
}

// One key=value line per client, like Redis CLIENT LIST.
void print_connections(const std::string& json) {
  parsed p{json};
  element list;
  if (!p.ok || p.doc["connections"].get(list))
    return;
  for (element c : list.get_array()) {
    if (auto node = field(c, "node"); node != "-")
      std::printf("node=%s ", node.c_str());
    std::printf("id=%s addr=%s dialect=%s user=%s subs=%s qframes=%s qbytes=%s in=%s out=%s "
                "dropped=%s age=%s idle=%s\n",
                field(c, "id").c_str(), field(c, "addr").c_str(), field(c, "dialect").c_str(),
                field(c, "user") == "null" ? "-" : field(c, "user").c_str(),
                field(c, "subs").c_str(), field(c, "queue_frames").c_str(),
                field(c, "queue_bytes").c_str(), field(c, "msgs_in").c_str(),
                field(c, "msgs_out").c_str(), field(c, "rate_dropped").c_str(),
                age(number(c, "age_ms")).c_str(),
                age(number(c, "idle_ms")).c_str());
  }
  print_missing(p.doc);
}

// One line per cluster member, this node first.
void print_nodes(const std::string& json) {
  parsed p{json};
  element list;
  if (!p.ok || p.doc["members"].get(list))
    return;
  bool enabled = false;
  if (p.doc["enabled"].get_bool().get(enabled))
    enabled = false;
  if (enabled)
    std::printf("cluster %s: %s up, %s down%s\n", field(p.doc, "cluster").c_str(),
                field(p.doc, "up").c_str(), field(p.doc, "down").c_str(),
                field(p.doc, "tls") == "true" ? " (TLS)" : "");
  else
    std::printf("no cluster (cluster.port is 0): this node alone\n");
  std::printf("%-24s %-22s %-8s %11s %8s %10s %10s\n", "ID", "ADDRESS", "STATE", "CONNECTIONS",
              "TOPICS", "HEARTBEAT", "SINCE");
  for (element m : list.get_array()) {
    bool self = false;
    if (m["self"].get_bool().get(self))
      self = false;
    std::printf("%-24s %-22s %-8s %11s %8s %10s %10s\n",
                (field(m, "id") + (self ? " *" : "")).c_str(), field(m, "address").c_str(),
                field(m, "state").c_str(), field(m, "connections").c_str(),
                field(m, "topics").c_str(),
                self ? "-" : age(number(m, "last_heartbeat_ms")).c_str(),
                age(number(m, "since_ms")).c_str());
  }
}

void print_show(const std::string& json) {
  parsed p{json};
  element actor;
  if (!p.ok || p.doc["actor"].get(actor))
    return;
  for (auto [k, v] : actor.get_object())
    std::printf("%-20s %s\n", std::string{k}.c_str(), text(v).c_str());
}

void print_ok(const std::string& json) {
  parsed p{json};
  auto clients = p.ok ? field(p.doc, "clients") : std::string{"-"};
  auto kicked = p.ok ? field(p.doc, "kicked") : std::string{"-"};
  // A cluster-wide kick or broadcast: the count of each member after the total.
  std::string per_node;
  simdjson::dom::array nodes;
  if (p.ok && !p.doc["nodes"].get_array().get(nodes))
    for (element n : nodes)
      per_node += (per_node.empty() ? ": " : ", ") + field(n, "node") + " "
                  + field(n, kicked != "-" ? "kicked" : "clients");
  element maintenance;
  bool on = false;
  if (p.ok && !p.doc["maintenance"].get(maintenance) && !maintenance["on"].get_bool().get(on))
    std::printf("maintenance %s (%s clients told)\n", on ? "on" : "off", clients.c_str());
  else if (kicked != "-")
    std::printf("OK (%s connections kicked%s)\n", kicked.c_str(), per_node.c_str());
  else if (clients != "-")
    std::printf("OK (%s clients%s)\n", clients.c_str(), per_node.c_str());
  else
    std::printf("OK\n");
  if (p.ok)
    print_missing(p.doc);
}

// One line per member that answered, then the cluster's totals.
void print_cluster_info(const std::string& json) {
  parsed p{json};
  simdjson::dom::array nodes;
  if (!p.ok || p.doc["nodes"].get_array().get(nodes))
    return;
  std::printf("%-12s %-10s %-8s %9s %11s %13s %8s %12s %12s %11s\n", "NODE", "VERSION", "MODE",
              "UPTIME", "CONNECTIONS", "SUBSCRIPTIONS", "TOPICS", "EVENTS-IN", "EVENTS-OUT",
              "MAINTENANCE");
  for (element n : nodes) {
    element info, facts, maintenance;
    if (n["info"].get(info) || info["node"].get(facts))
      continue;
    bool on = false;
    if (info["maintenance"].get(maintenance) || maintenance["on"].get_bool().get(on))
      on = false;
    std::printf("%-12s %-10s %-8s %9s %11s %13s %8s %12s %12s %11s\n", field(n, "node").c_str(),
                field(facts, "version").c_str(), field(facts, "mode").c_str(),
                age(number(info, "uptime_ms")).c_str(), field(info, "connections").c_str(),
                field(info, "subscriptions").c_str(), field(info, "topics").c_str(),
                field(info, "events_in").c_str(), field(info, "events_out").c_str(),
                on ? "on" : "off");
  }
  element total;
  if (!p.doc["total"].get(total))
    std::printf("%-12s %-10s %-8s %9s %11s %13s %8s %12s %12s\n",
                ("total (" + field(total, "nodes") + ")").c_str(), "", "", "",
                field(total, "connections").c_str(), field(total, "subscriptions").c_str(),
                field(total, "topics").c_str(), field(total, "events_in").c_str(),
                field(total, "events_out").c_str());
  print_missing(p.doc);
}

void print_top(const std::string& info, const std::string& actors, const std::string& topics,
               bool json) {
  if (json) {
    std::string out;
    tickgate::json_writer{out}
      .begin_object()
      .key("info")
      .raw(info)
      .key("actors")
      .raw(actors)
      .key("topics")
      .raw(topics)
      .end_object();
    std::printf("%s\n", out.c_str());
    return;
  }
  std::printf("\033[H\033[2J"); // home + clear
  parsed i{info};
  element node;
  if (i.ok && !i.doc["node"].get(node))
    std::printf("tickgate %s  %s  connections %s  subscriptions %s  topics %s  events out %s\n\n",
                field(node, "id").c_str(), field(node, "mode").c_str(),
                field(i.doc, "connections").c_str(), field(i.doc, "subscriptions").c_str(),
                field(i.doc, "topics").c_str(), field(i.doc, "events_out").c_str());
  parsed a{actors};
  element list;
  std::printf("Largest mailboxes\n");
  if (a.ok && !a.doc["actors"].get(list))
    actor_table(list, 10);
  parsed t{topics};
  std::printf("\nBusiest topics\n");
  if (t.ok && !t.doc["topics"].get(list))
    topic_table(list, 10);
}

} // namespace tickgatectl
