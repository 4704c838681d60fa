#pragma once

#include <memory>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/send.hpp>
#include <gtest/gtest.h>

#include "actors/connection_actor.hpp"
#include "actors/router_actor.hpp"
#include "support/fake_sink.hpp"

namespace tickgate::test {

/// A fixture with the routing core running in-process: an actor system, a
/// router, and connection actors whose sessions are fake sinks. A test sets
/// `settings` in its SetUp, then calls start().
struct routing_core : ::testing::Test {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  caf::actor router;
  routing_settings settings;

  void start() {
    sys = std::make_unique<caf::actor_system>(cfg);
    router = sys->spawn(router_actor, settings, std::vector<caf::actor>{});
  }

  void TearDown() override {
    caf::anon_send(router, stop_atom_v);
    sys->await_all_actors_done();
  }

  struct client {
    std::shared_ptr<fake_sink> sink = std::make_shared<fake_sink>();
    connection_actor_type conn;
  };

  client connect() {
    client c;
    c.conn = sys->spawn(connection_actor, c.sink, router,
                        std::make_shared<const routing_settings>(settings), client_info{});
    return c;
  }
};

} // namespace tickgate::test
