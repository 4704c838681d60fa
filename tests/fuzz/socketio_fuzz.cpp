// Engine.IO / Socket.IO packets: the stateful decoder never crashes across a
// sequence of packets, and what it accepts names valid topics.
#include <string_view>

#include "fuzz_target.hpp"
#include "proto/socketio_codec.hpp"
#include "proto/topic_name.hpp"

using namespace tickgate;

TICKGATE_FUZZ_TARGET(socketio) {
  // Newline-separated packets, all fed to one connection.
  std::string_view in{reinterpret_cast<const char*>(data), size};
  socketio_decoder decoder{decoder_options{"fuzz", {}, 25000, 20000, 65536}};
  decoder.on_open();
  while (!in.empty()) {
    auto nl = in.find('\n');
    auto packet = in.substr(0, nl);
    auto out = decoder.decode(packet, false);
    for (auto& f : out.frames)
      if (auto* cmd = std::get_if<client_command>(&f))
        for (auto& t : cmd->topics)
          FUZZ_CHECK(is_valid_topic(t));
    if (nl == std::string_view::npos)
      break;
    in.remove_prefix(nl + 1);
  }
  return 0;
}
