// The admin namespace's events as a socket.io-client sends them, the
// inspector commands they become, and the acks and events that answer them.
#include "proto/socketio_admin.hpp"

#include <gtest/gtest.h>

#include "proto/dialect_settings.hpp"
#include "proto/socketio_codec.hpp"

using namespace tickgate;

namespace {

uint8_t admin_ns() {
  return dialects().namespace_index("/admin").value();
}

// A decoder with namespace /admin connected (its role is the connection actor's business).
struct admin_decoder {
  socketio_decoder decoder{decoder_options{"sid1", {}, 25000, 20000, 65536}};

  admin_decoder() { decoder.decode("40/admin,", false); }

  decoded_frame event(std::string_view packet) {
    auto out = decoder.decode(packet, false);
    EXPECT_EQ(out.frames.size(), 1u) << packet;
    return out.frames.empty() ? decoded_frame{client_error{}} : out.frames.front();
  }

  std::vector<std::string> command(std::string_view packet) {
    auto frame = event(packet);
    if (auto* err = std::get_if<client_error>(&frame)) {
      ADD_FAILURE() << packet << ": " << err->message;
      return {};
    }
    auto& cmd = std::get<client_command>(frame);
    EXPECT_EQ(cmd.op, client_op::admin);
    EXPECT_EQ(cmd.format.ns, admin_ns());
    return cmd.admin;
  }

  std::string error(std::string_view packet) {
    auto frame = event(packet);
    auto* err = std::get_if<client_error>(&frame);
    EXPECT_TRUE(err) << packet;
    return err ? err->message : "";
  }
};

using args = std::vector<std::string>;

reply_to ack_to(std::string verb, std::optional<uint64_t> ack_id) {
  reply_to to{wire_format{dialect::socketio, false, admin_ns(), 0}, {}, {}};
  to.ctx.verb = std::move(verb);
  to.ctx.ack_id = ack_id;
  return to;
}

} // namespace

TEST(socketio_admin, metrics_and_broadcast_become_the_inspector_commands_tickgatectl_sends) {
  admin_decoder c;
  EXPECT_EQ(c.command(R"(42/admin,1["admin.metrics"])"), args{"stats"});
  EXPECT_EQ(c.command(R"(42/admin,2["admin.broadcast",{"message":"halt at 18:00", "level":"warn"}])"),
            (args{"broadcast", R"({"message":"halt at 18:00","level":"warn"})"}));
  EXPECT_NE(c.error(R"(42/admin,3["admin.broadcast"])").find("needs the system message"),
            std::string::npos);
}

TEST(socketio_admin, commands_take_args_as_a_string_an_array_or_an_object) {
  admin_decoder c;
  EXPECT_EQ(c.command(R"(42/admin,1["admin.command",{"command":"kick","args":"17"}])"),
            (args{"kick", "17"}));
  EXPECT_EQ(c.command(R"(42/admin,1["admin.command",{"command":"kick","args":{"user":"alice"}}])"),
            (args{"kick", "", "alice"}));
  EXPECT_EQ(c.command(R"(42/admin,1["admin.command",{"command":"kick","user":"alice"}])"),
            (args{"kick", "", "alice"}));
  EXPECT_EQ(c.command(R"(42/admin,1["admin.command",{"command":"restart-topic","args":{"topic":"price:BTC"}}])"),
            (args{"restart", "price:BTC"}));
  EXPECT_EQ(c.command(R"(42/admin,1["admin.command",{"command":"maintenance","args":{"mode":"on","message":"upgrade","retry_after":60}}])"),
            (args{"maintenance", "on", "upgrade", "60"}));
  EXPECT_EQ(c.command(R"(42/admin,1["admin.command",{"command":"maintenance","args":["off"]}])"),
            (args{"maintenance", "off"}));
  EXPECT_EQ(c.command(R"(42/admin,1["admin.command",{"command":"stats"}])"), args{"stats"});
}

TEST(socketio_admin, a_malformed_or_unknown_command_is_refused_with_what_is_accepted) {
  admin_decoder c;
  EXPECT_NE(c.error(R"(42/admin,1["admin.command","kick"])").find("needs {command, args}"),
            std::string::npos);
  auto unknown = c.error(R"(42/admin,1["admin.command",{"command":"shutdown"}])");
  EXPECT_NE(unknown.find("unknown admin command 'shutdown'"), std::string::npos) << unknown;
  EXPECT_NE(unknown.find("restart-topic"), std::string::npos) << unknown;
  EXPECT_NE(c.error(R"(42/admin,1["admin.command",{"command":"kick","args":[{"id":1}]}])")
              .find("args of kick"),
            std::string::npos);
}

TEST(socketio_admin, the_inspectors_answer_becomes_the_ack_with_success_and_result) {
  EXPECT_EQ(socketio::admin_reply(ack_to("admin.command", 5), R"({"ok":true,"kicked":2})"),
            (args{R"(43/admin,5[{"success":true,"result":{"kicked":2}}])"}));
  EXPECT_EQ(socketio::admin_reply(ack_to("admin.command", 6), R"({"ok":true})"),
            (args{R"(43/admin,6[{"success":true,"result":{}}])"}));
  EXPECT_EQ(socketio::admin_reply(ack_to("admin.command", 7),
                                  R"({"ok":false,"code":"not_found","error":"no connection with id '9'"})"),
            (args{R"(43/admin,7[{"success":false,"error":"no connection with id '9'","code":"not_found"}])"}));
  // Without an ack id a success is silent and a failure is an error event.
  EXPECT_TRUE(socketio::admin_reply(ack_to("admin.command", std::nullopt), R"({"ok":true})").empty());
  EXPECT_EQ(socketio::admin_reply(ack_to("admin.command", std::nullopt),
                                  R"({"ok":false,"code":"bad_request","error":"usage"})"),
            (args{R"(42/admin,["error",{"message":"usage","code":"bad_request"}])"}));
}

TEST(socketio_admin, admin_metrics_is_answered_with_an_admin_metrics_event) {
  auto frames = socketio::admin_reply(ack_to("admin.metrics", 1), R"({"ok":true,"uptime_ms":5,"conn":{"open":1}})");
  EXPECT_EQ(frames, (args{R"(42/admin,["admin.metrics",{"uptime_ms":5,"conn":{"open":1}}])",
                          R"(43/admin,1[{"success":true,"result":{"uptime_ms":5,"conn":{"open":1}}}])"}));
  EXPECT_EQ(socketio::emit_packet(admin_ns(), "admin.alert", R"({"level":"info"})"),
            R"(42/admin,["admin.alert",{"level":"info"}])");
}

TEST(socketio_admin, a_namespace_disconnect_reaches_the_connection_even_without_topics) {
  admin_decoder c;
  auto out = c.decoder.decode("41/admin,", false);
  ASSERT_EQ(out.frames.size(), 1u);
  auto& cmd = std::get<client_command>(out.frames.front());
  EXPECT_EQ(cmd.ctx.verb, "disconnect");
  EXPECT_EQ(cmd.format.ns, admin_ns());
  EXPECT_TRUE(cmd.topics.empty());
}
