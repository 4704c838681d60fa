#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <caf/actor.hpp>

#include "actors/connection_actor.hpp"
#include "actors/session_sink.hpp"
#include "net/http_routes.hpp"
#include "net/http_session.hpp"
#include "net/io_loop.hpp"
#include "net/net_context.hpp"
#include "net/queue_lock.hpp"
#include "proto/frame_decoder.hpp"
#include "proto/ws_framing.hpp"

namespace tickgate::net {

/// One WebSocket client. The session answers the opening handshake (the
/// request was checked by http_session) and frames the connection itself
/// (proto/ws_framing.hpp), so it can
/// write every frame queued for the client in one socket write and keeps no
/// per-connection buffers while the client is idle. Lives while an async
/// operation, its loop's flush list or a topic holds it.
///
/// Threads: every member except send/close/stats runs on the thread of the
/// session's io_loop. send/close/stats may be called from any thread
/// (actors); they only touch the members guarded by `mtx_` and post to the loop.
///
/// Outbound: frames queue up to outbound_max_messages / outbound_max_bytes
/// behind the write in progress; passing either bound closes the session with
/// 1008 "slow consumer" (counted in conn.slow_closed). Control frames (pong,
/// ping, close) bypass the queue and go out before queued frames (close last).
///
/// Reading: the session waits for readability, then reads into a per-thread
/// buffer; only a partial frame is copied into the session.
///
/// Close: whoever closes first, the session writes its close frame (after the
/// frames already queued, when an actor asked for the close). Once both
/// close frames are through and nothing is left unread, the TCP connection
/// closes at once; otherwise the session shuts down its sending side and
/// reads until the client hangs up. The whole close has a deadline
/// (handshake_timeout) after which the TCP connection is dropped.
class ws_session : public session_sink,
                   public std::enable_shared_from_this<ws_session> {
public:
  /// `dialect`: the protocol of the listener path (see proto/frame_decoder.hpp).
  /// `socket` must belong to `loop`.
  ws_session(loop_socket&& socket, net_context& ctx,
             io_loop& loop, const std::string& dialect);
  ~ws_session() override;

  /// Completes the handshake for the upgrade request `req`, then serves.
  /// `early`: bytes the client sent after the request without waiting for
  /// the 101 (its first frames); they are read before the socket.
  void run(http_request req, const boost::asio::ip::tcp::endpoint& peer,
           std::string early = {});

  /// Keeps `ticket` (e.g. an admission slot) until the session ends; it is
  /// released as soon as the connection is over, not when the last
  /// reference to the session goes.
  void hold(std::shared_ptr<void> ticket) { ticket_ = std::move(ticket); }

  send_result send(frame f) override;
  void close(uint16_t code, std::string_view reason) override;
  sink_stats stats() const override;

  /// Ends the session without a close handshake. Only when no I/O thread runs.
  void abort();

  /// Loop thread: writes everything queued (its loop calls this after send()
  /// asked for it). Over its frame rate (edge_settings::pace_above), the
  /// session hands itself to its loop's pacing instead.
  void flush() { write_queued(false); }

  /// Loop thread: the paced write is due.
  void paced_flush() {
    paced_ = false;
    write_queued(true);
  }

  /// Loop thread: acts on a deadline that has passed (its loop calls this
  /// every io_loop::tick_interval).
  void tick(std::chrono::steady_clock::time_point now);

private:
  enum class close_kind : uint8_t {
    graceful, // wait for the client's close frame
    echo,     // answering the client's close frame
    failure,  // the client broke the protocol: do not wait for an answer
  };

  void on_accept(boost::beast::error_code ec); // the 101 is written (or failed)
  void wait_readable();
  void on_readable(boost::beast::error_code ec);
  void consume(char* data, size_t size);
  void on_event(const ws_event& ev);
  void on_message(std::string_view bytes, bool binary);
  void send_text(std::string bytes); // a frame the session itself answers with
  size_t drop_oldest_events(size_t incoming); // mtx_ held
  /// After a write of `out` (`written` bytes of it went out, or `ec`):
  /// the rest goes out asynchronously, the frames are accounted, our close
  /// frame's sending is noted; `more`: flush again.
  void after_send(const std::string& out, size_t written, boost::beast::error_code ec,
                  std::vector<frame> frames, bool has_close, bool more);
  /// Loop thread: the write this session left in its loop's pass went out
  /// (`result`: bytes written or -errno).
  void write_sent(io_loop::queued_write& w, ssize_t result);
  void on_write(boost::beast::error_code ec);
  void account(const std::vector<frame>& frames);
  /// `deliver_queued`: frames queued before the close still go out ahead of
  /// the close frame (an error the actor sent just before closing); false
  /// drops them (slow consumer, broken protocol, the client closing).
  void start_close(uint16_t code, std::string_view reason, close_kind kind,
                   bool deliver_queued);
  void after_close_sent();
  void linger();
  void send_ping();
  void finish(boost::beast::error_code ec); // the session is over

  loop_socket sock_;
  // Only until the 101 is written: what the request told us about the client
  // (for the connection actor).
  struct handshake {
    client_info client;
    std::string early; // frames that came with the request
  };
  std::unique_ptr<handshake> handshake_;
  net_context& ctx_;
  io_loop& loop_;
  connection_actor_type conn_;
  const std::string& dialect_; // an entry of edge_settings::endpoints (lives as long as the node)
  std::unique_ptr<frame_decoder> decoder_;
  ws_reader reader_;
  std::shared_ptr<void> ticket_; // released in finish()

  // Set before the session is shared, then only read.
  uint8_t dialect_index_ = 0; // into metrics::conn_by_dialect

  // Guarded by mtx_. (Members are ordered so that the one-byte ones share
  // the padding: an idle connection holds this object.)
  mutable queue_lock mtx_;
  bool flush_requested_ = false; // the loop will call flush(), or a write is in flight
  bool closing_ = false;         // no more frames are accepted
  std::string peer_;          // address:port, set before the session is shared
  uint64_t frames_out_ = 0;
  uint64_t bytes_out_ = 0;
  int64_t last_in_us_ = 0;
  std::vector<frame> queue_;  // not yet taken by flush()
  size_t queued_bytes_ = 0;

  // Loop thread only.
  // What only a connection in some passing state needs; allocated on first
  // use and dropped when empty, so an idle connection does not carry it.
  struct spill_state {
    std::string pending_in;       // a partial frame carried over to the next read
    std::string pending_out;      // the rest of a write the socket did not take at once
    std::vector<frame> in_flight; // frames in pending_out, accounted when it completes
    std::optional<std::string> pong; // the answer to the latest ping (older ones are folded)
    std::string close_out;        // our close frame until it is written
    bool empty() const {
      return pending_in.empty() && pending_out.empty() && in_flight.empty() && !pong
             && close_out.empty();
    }
  };
  std::unique_ptr<spill_state> spill_;
  spill_state& spill() {
    if (!spill_)
      spill_ = std::make_unique<spill_state>();
    return *spill_;
  }
  void trim_spill() {
    if (spill_ && spill_->empty())
      spill_.reset();
  }
  // What happens at deadline_: send a ping, check that the pong came, or
  // drop a connection whose close handshake did not finish.
  enum class deadline_kind : uint8_t { none, ping, pong, close };
  std::chrono::steady_clock::time_point deadline_{};
  size_t loop_slot_ = 0; // io_loop's index of this session
  friend class io_loop;
  // Write pacing (edge_settings::pace_above): the budget of frames and when
  // it was last topped up (the epoch at first: a full burst).
  std::chrono::steady_clock::time_point tokens_at_{};
  float frame_tokens_ = 0;
  deadline_kind deadline_kind_ = deadline_kind::none; // what happens at deadline_ (here for packing)
  /// Tops up the budget; true while the client is within its frame rate.
  bool within_rate();
  void write_queued(bool pace_due);
  close_kind close_kind_ = close_kind::graceful;
  bool ping_due_ = false;
  bool awaiting_pong_ = false;
  bool write_in_flight_ = false;
  bool close_in_write_ = false;   // the write in flight carries our close frame
  bool close_sent_ = false;       // our close frame is queued or written
  bool close_written_ = false;
  bool close_received_ = false;
  bool discarding_ = false;       // input is read and dropped (closing)
  bool finished_ = false;
  bool registered_ = false;
  bool ticking_ = false; // added to loop_
  bool paced_ = false;   // waiting in loop_'s pacing queue
};

} // namespace tickgate::net
