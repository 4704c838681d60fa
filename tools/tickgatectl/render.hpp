#pragma once

#include <string>

namespace tickgatectl {

struct failure {
  std::string code;
  std::string message;
};

/// The "code" and "error" of an {"ok":false,...} answer.
failure error_of(const std::string& json);

void print_info(const std::string& json);
/// info --cluster: one line per member, the totals, the members that did not answer.
void print_cluster_info(const std::string& json);
/// Every metric as `group.key value` lines (arrays as group.key.label),
/// in the node's order: the generic view of its metrics table.
void print_stats(const std::string& json);
void print_actors(const std::string& json);
/// Topics and connections: with a NODE column (node= field) and a line per
/// member that did not answer when the listing is cluster-wide (--cluster).
void print_topics(const std::string& json);
void print_connections(const std::string& json);
void print_show(const std::string& json);
void print_nodes(const std::string& json);
void print_ok(const std::string& json);

/// One frame of `top`: a screen with the node summary, the actors with the
/// largest mailboxes and the busiest topics (msgs/s since their start).
void print_top(const std::string& info, const std::string& actors,
               const std::string& topics, bool json);

} // namespace tickgatectl
