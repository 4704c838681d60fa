#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
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
#include "net/outbound_queue.hpp"
#include "net/ws_lifecycle.hpp"
#include "proto/frame_decoder.hpp"
#include "proto/ws_framing.hpp"

namespace tickgate::net {

class engineio_session;

/// One WebSocket client. The session writes the 101 for an upgrade request
/// http_session has checked (net/ws_upgrade.hpp) and frames the connection
/// itself (proto/ws_framing.hpp), so it can write every frame queued for the
/// client in one socket write and keeps no per-connection buffers while the
/// client is idle. Lives while an async operation, its loop's flush list or
/// a topic holds it.
///
/// Parts: the outbound queue and its pacing (net/outbound_queue.hpp), the
/// lifecycle from the 101 to the closed socket (net/ws_lifecycle.hpp: one
/// state and its diagram), the handshake (net/ws_upgrade.hpp). The session
/// ties them to the socket and its loop.
///
/// Threads: every member except send/close/stats/command_done runs on the
/// thread of the session's io_loop. Those four may be called from any thread
/// (actors); they touch only the outbound queue, the atomics and post to the
/// loop.
///
/// Outbound: frames queue up to outbound_max_messages / outbound_max_bytes
/// behind the write in progress; passing either bound closes the session with
/// 1008 "slow consumer" (counted in conn.slow_closed), or with the
/// drop-oldest policy drops the oldest events and tells the client, or with
/// the conflate policy keeps the newest queued event per topic (counted in
/// conn.slow_conflated). Control
/// frames (pong, ping, close) bypass the queue and go out before queued
/// frames (close last).
///
/// Reading: the session waits for readability, then reads into a per-thread
/// buffer; only a partial frame is copied into the session. Inbound
/// backpressure: while its connection actor has ws.inbound-queue decoded
/// messages it has not processed yet, the session stops decoding and reading
/// (the kernel's receive buffer, then TCP flow control, hold the client
/// back); it reads on once the actor is down to half of that (counted in
/// conn.read_pauses).
///
/// Close: see ws_lifecycle. Once both close frames are through and nothing is
/// left unread, the TCP connection closes at once; otherwise the session
/// shuts down its sending side and reads until the client hangs up.
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

  /// Before run(): this WebSocket upgrades the Engine.IO long-polling
  /// session `s` (the request named its sid). It answers the client's
  /// "2probe" and, after its "5", carries `s`'s connection (its actor, frame
  /// decoder and the frames still queued) instead of starting one; until
  /// then it only has the handshake timeout to finish the upgrade.
  void upgrade_from(std::shared_ptr<engineio_session> s) { eio_ = std::move(s); }

  send_result send(frame f) override;
  void close(uint16_t code, std::string_view reason) override;
  sink_stats stats() const override;
  void command_done() override;

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
  void on_accept(boost::beast::error_code ec); // the 101 is written (or failed)
  void wait_readable();
  void on_readable(boost::beast::error_code ec);
  /// Reads on (waits for readability), unless the actor is behind: then
  /// reading pauses until command_done() resumes it.
  void read_on();
  void resume_reading();
  /// The connection actor has ws.inbound-queue messages unprocessed.
  bool actor_behind() const;
  /// Decodes `size` bytes after any partial frame kept from the last read
  /// (size 0: only what was kept).
  void consume(char* data, size_t size);
  void on_event(const ws_event& ev);
  void on_message(std::string_view bytes, bool binary);
  void on_probe(std::string_view bytes); // a message before the upgrade completed
  void send_text(std::string bytes); // a frame the session itself answers with
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
  // The long-polling session this WebSocket upgrades (until finish()), and
  // whether the client's "5" is still to come.
  std::shared_ptr<engineio_session> eio_;
  bool probing_ = false;
  std::string peer_; // address:port, set before the session is shared, then only read

  // Any thread.
  outbound_queue queue_;
  std::atomic<int64_t> last_in_us_{0}; // the client's last message
  // (inbound_: at the end, for packing)

  // Loop thread only.
  // What only a connection in some passing state needs; allocated on first
  // use and dropped when empty, so an idle connection does not carry it.
  struct spill_state {
    std::string pending_in;       // a partial frame carried over to the next read
    std::string pending_out;      // the rest of a write the socket did not take at once
    std::vector<frame> in_flight; // frames in pending_out, accounted when it completes
    std::optional<std::string> pong; // the answer to the latest ping (older ones are folded)
    std::string close_out;        // our close frame until it is written
    bool close_in_flight = false; // pending_out ends with close_out
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
  // What happens at deadline_. While open: send a ping (ping), check that
  // its pong came (pong; answered once it has), and so on. Once a close has
  // started, the only deadline is the close's (close): the connection drops.
  enum class deadline_kind : uint8_t { none, ping, pong, answered, close };
  std::chrono::steady_clock::time_point deadline_{};
  size_t loop_slot_ = 0; // io_loop's index of this session
  friend class io_loop;
  write_pacer pacer_;
  deadline_kind deadline_kind_ = deadline_kind::none;
  ws_lifecycle life_;
  uint8_t dialect_index_ = 0; // into metrics::conn_by_dialect; set before the session is shared
  void write_queued(bool pace_due);
  // Orthogonal to the lifecycle:
  bool ping_due_ = false;        // a ping frame is owed to the client: the next write carries it
  bool write_in_flight_ = false; // in the loop's batch or async: on_write/write_sent flush again
  bool paced_ = false;           // waiting in loop_'s pacing queue: paced_flush() comes
  bool ticking_ = false;         // added to loop_ (tick() is called) until finish()
  bool registered_ = false;      // in ctx_.sessions (open or later) until finish()
  bool read_paused_ = false;     // no readability wait is pending: resume_reading() starts one

  // Any thread (here, so that it shares the padding of the flags above: an
  // idle connection holds this object). Its low bits count the decoded
  // messages handed to conn_ that it has not processed yet: the loop thread
  // counts them up before sending, command_done() down once each.
  // paused_bit: set by the loop thread when it pauses reading; whoever takes
  // it back (take_pause: command_done() once the count is down to half the
  // bound, or the loop thread finding it so already) resumes reading,
  // exactly once. One word, so the count and the flag change together.
  static constexpr uint32_t paused_bit = 1u << 31;
  std::atomic<uint32_t> inbound_{0};
  /// Clears paused_bit if `seen` (a recent value of inbound_) has it and no
  /// one else cleared it first; true if this call did.
  bool take_pause(uint32_t seen);
};

} // namespace tickgate::net
