#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "net/redis_endpoint.hpp"
#include "net/redis_port.hpp"

namespace tickgate::net {

struct redis_link_settings {
  redis_endpoint endpoint;
  std::chrono::milliseconds reconnect_min{100};  // first retry delay
  std::chrono::milliseconds reconnect_max{1000}; // backoff ceiling: Redis back => resubscribed within ~1 s
  std::chrono::milliseconds connect_timeout{3000};
  size_t max_pending_publishes = 100000;         // PUBLISHes awaiting a reply; more are dropped
  std::string log_name = "bridge";               // log prefix of the feed using the link
  std::atomic<uint64_t>* reconnects = nullptr;   // counts reconnects; null: bridge.reconnects
};

/// The node's two Redis connections (one in subscriber mode, one for
/// PUBLISH) on hiredis' async API, driven by an Asio loop on a thread of its
/// own through each socket's file descriptor. Reports to its listener (the
/// Redis feed), on that thread: on_link when both connections are ready /
/// when either is lost, on_subscribed per confirmation, and the messages of
/// each socket read as one batch.
///
/// Lost connections are retried with exponential backoff and jitter; every
/// successful reconnect is logged and counted (bridge.reconnects).
class redis_link : public redis_port {
public:
  explicit redis_link(redis_link_settings settings);
  ~redis_link() override;

  /// Starts the loop and the first connection attempt.
  void start(redis_listener* listener) override;

  /// Closes both connections and joins the loop thread.
  void stop() override;

  void subscribe(std::vector<std::string> channels) override;
  void unsubscribe(std::vector<std::string> channels) override;
  void psubscribe(std::vector<std::string> patterns) override;
  void publish(std::vector<std::pair<std::string, std::string>> messages) override;
  void publish_commands(std::vector<std::vector<std::string>> commands) override;
  void query(std::vector<std::string> args, query_done done) override;

  class connection; // one hiredis async context (redis_link.cpp)

private:
  friend class connection;

  void connect_all();                          // loop thread
  void on_ready(connection& c);                // loop thread
  void on_lost(connection& c, std::string why); // loop thread
  void restart();                              // loop thread
  void send_command(connection& c, const std::vector<std::string>& args,
                    bool subscriber);          // loop thread
  void send_publishes(const std::vector<std::vector<std::string>>& commands); // loop thread
  void flush_inbound();                        // loop thread

  redis_link_settings settings_;
  redis_listener* listener_ = nullptr;
  boost::asio::io_context ioc_;
  std::thread thread_;
  boost::asio::steady_timer retry_timer_;
  boost::asio::steady_timer connect_timer_;
  std::unique_ptr<connection> sub_;
  std::unique_ptr<connection> cmd_;
  bool up_ = false;              // both connections ready
  bool ever_up_ = false;
  bool restart_pending_ = false;
  bool stopping_ = false;
  std::chrono::milliseconds backoff_;
  std::mt19937 rng_{std::random_device{}()};
  redis_batch inbound_;          // messages of the current read
  size_t pending_publishes_ = 0;
};

} // namespace tickgate::net
