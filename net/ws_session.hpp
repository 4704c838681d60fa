#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <caf/actor.hpp>

#include "actors/connection_actor.hpp"
#include "actors/session_sink.hpp"
#include "net/http_routes.hpp"
#include "net/net_context.hpp"
#include "proto/frame_decoder.hpp"
#include "proto/wire_format.hpp"

namespace tickgate::net {

/// One WebSocket client. Lives while an async operation or a topic holds it.
///
/// Threads: every member except send/close runs on the socket's strand.
/// send/close may be called from any thread (actors); they only touch the
/// queue under `mtx_` and post to the strand.
///
/// Outbound: one write in flight; frames queue behind it up to
/// outbound_max_messages / outbound_max_bytes. Passing either bound closes
/// the session with 1008 "slow consumer" (counted in conn.slow_closed).
class ws_session : public session_sink,
                   public std::enable_shared_from_this<ws_session> {
public:
  /// `dialect`: the protocol of the listener path (see proto/frame_decoder.hpp).
  ws_session(boost::asio::ip::tcp::socket&& socket, net_context& ctx,
             std::string dialect);
  ~ws_session() override;

  /// Completes the handshake for the upgrade request `req`, then serves.
  void run(http_request req);

  /// Keeps `ticket` (e.g. an admission slot) until the session ends; it is
  /// released as soon as the connection is over, not when the last
  /// reference to the session goes.
  void hold(std::shared_ptr<void> ticket) { ticket_ = std::move(ticket); }

  send_result send(const frame& f) override;
  void close(uint16_t code, std::string_view reason) override;
  sink_stats stats() const override;

  /// Ends the session without a close handshake. Only when no I/O thread runs.
  void abort();

private:
  void on_accept(boost::beast::error_code ec);
  void do_read();
  void on_read(boost::beast::error_code ec, size_t bytes);
  void send_text(std::string bytes); // a frame the session itself answers with
  void drain();                         // strand: write the next queued frame
  void on_write(boost::beast::error_code ec, size_t bytes);
  void start_close(uint16_t code, std::string reason); // strand
  void drop_unsent(); // strand, mtx_ held
  void arm_ping_timer(std::chrono::steady_clock::duration after);
  void on_ping_timer();
  void finish(boost::beast::error_code ec); // strand: the session is over

  boost::beast::websocket::stream<boost::beast::tcp_stream> ws_;
  boost::beast::flat_buffer buffer_;
  net_context& ctx_;
  caf::actor conn_;
  std::string dialect_;
  std::unique_ptr<frame_decoder> decoder_; // strand only
  std::string subprotocol_;
  client_info client_;          // handed to the connection actor
  std::shared_ptr<void> ticket_; // strand only; released in finish()

  // Guarded by mtx_.
  mutable std::mutex mtx_;
  std::string peer_;          // address:port, set before the session is shared
  uint64_t frames_out_ = 0;
  uint64_t bytes_out_ = 0;
  int64_t last_in_us_ = 0;
  size_t dialect_index_ = 0;  // into metrics::conn_by_dialect
  std::deque<frame> queue_; // front() is being written while writing_
  size_t queued_bytes_ = 0;
  bool draining_ = false;   // a drain is posted or a write is in flight
  bool closing_ = false;    // no more frames are accepted

  // Strand only.
  boost::asio::steady_timer ping_timer_;
  bool awaiting_pong_ = false;
  bool pong_check_due_ = false;
  bool ping_in_flight_ = false;
  bool write_in_flight_ = false;
  bool close_started_ = false;
  bool close_deadline_armed_ = false; // ping_timer_ now guards the close
  bool finished_ = false;
  bool registered_ = false;
  std::optional<std::pair<uint16_t, std::string>> deferred_close_;
};

} // namespace tickgate::net
