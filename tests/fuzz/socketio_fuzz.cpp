// Engine.IO / Socket.IO packets, newline-separated, all fed to one connection:
// the stateful decoder never crashes; every packet it sends back is a valid
// Engine.IO packet with parseable JSON; accepted events name valid topics;
// a namespace DISCONNECT comes once per connected namespace and names no
// topics (the connection actor leaves every room it holds there, the rooms
// it joined on the client's behalf included).
#include <set>

#include "fuzz_checks.hpp"
#include "proto/socketio_codec.hpp"

using namespace tickgate;

TICKGATE_FUZZ_TARGET(socketio) {
  auto in = fuzz::as_view(data, size);
  socketio_decoder decoder{decoder_options{"fuzz", {}, 25000, 20000, 65536}};
  for (auto& open : decoder.on_open())
    FUZZ_CHECK(open.size() > 1 && open[0] == '0' && fuzz::is_json(open.substr(1)));
  std::set<uint8_t> connected; // namespaces a CONNECT was accepted for
  while (true) {
    auto nl = in.find('\n');
    auto out = decoder.decode(in.substr(0, nl), false);
    for (auto& reply : out.replies)
      FUZZ_CHECK(fuzz::is_socketio_packet(reply));
    for (auto& frame : out.frames) {
      fuzz::check_replies(frame);
      auto* cmd = std::get_if<client_command>(&frame);
      if (!cmd) {
        FUZZ_CHECK(std::get<client_error>(frame).format.kind == dialect::socketio);
        continue;
      }
      FUZZ_CHECK(cmd->format.kind == dialect::socketio);
      fuzz::check_options(*cmd);
      auto ns = cmd->format.ns;
      if (cmd->ctx.verb == "disconnect") {
        FUZZ_CHECK(cmd->op == client_op::unsubscribe && cmd->topics.empty());
        FUZZ_CHECK(connected.erase(ns) == 1);
        continue;
      }
      fuzz::check_topics(*cmd, true);
      if (cmd->ctx.verb == "connect")
        connected.insert(ns);
      else if (cmd->op == client_op::subscribe || cmd->op == client_op::unsubscribe)
        FUZZ_CHECK(connected.count(ns) == 1); // events of a namespace not joined are refused
    }
    if (nl == std::string_view::npos)
      break;
    in.remove_prefix(nl + 1);
  }
  return 0;
}
