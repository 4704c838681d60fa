#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tickgate {

/// Operator commands run on every up member of the cluster ("one view, one
/// control"): the node actor asks each member's node actor, which asks its
/// own inspector, and merges the answers with `merge_answers`. Plain code,
/// tested without actors.
///
/// The commands a member runs for another member: listings (topics,
/// connections, info), kicking a user's connections (kick "" <user>) and a
/// broadcast. Anything else (maintenance, publish, restart, a kick by
/// connection id, which is per node) is refused, so membership authorises
/// no more than these.
bool is_cluster_command(std::string_view command, const std::vector<std::string>& args);

/// One member's part of a cluster-wide command.
struct node_answer {
  std::string node;  // its node id
  std::string json;  // its inspector's answer; empty: none
  std::string error; // why there is no answer (down, no answer within the bound)
};

/// Merges the members' answers to `command` into one JSON object:
///   every command  "answered": [ids], "unreachable": [{"node","error"}],
///                  "failed": [{"node","code","error"}] (answered ok:false)
///   topics, connections  the rows of every member, each with a "node" field
///   info           "nodes": [{"node", "info": its answer}], "total": sums of
///                  connections, subscriptions, topics, events in/out, restarts
///   kick           "kicked": total, "nodes": [{"node","kicked"}] (a member
///                  without such a connection counts 0); none at all: ok:false
///                  not_found, as on one node
///   broadcast      "clients": total, "nodes": [{"node","clients"}]
std::string merge_answers(std::string_view command, const std::vector<node_answer>& answers);

} // namespace tickgate
