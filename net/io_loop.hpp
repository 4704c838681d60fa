#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <vector>

#include <boost/asio/basic_stream_socket.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "actors/session_sink.hpp"
#include "net/send_batch.hpp"

namespace tickgate::net {

class ws_session;

/// A TCP socket bound to one loop's executor (not a polymorphic one): every
/// pending operation on it stays small, and it moves between the HTTP and
/// the WebSocket session without leaving the loop's epoll set.
using loop_socket = boost::asio::basic_stream_socket<boost::asio::ip::tcp,
                                                     boost::asio::io_context::executor_type>;

/// One I/O thread's event loop. Every socket belongs to exactly one loop, so
/// a session's handlers never run concurrently and need no strand.
///
/// Outbound batching: actors queue frames on sessions from their own
/// threads; a session with newly queued frames asks its loop for a flush.
/// The loop posts one flush pass for all such sessions (not one handler per
/// frame or per session), and each session then writes everything it has
/// queued in one socket write.
///
/// Write pacing (edge_settings::pace_above): a session over its frame rate
/// hands itself to pace(). All sessions paced within one interval are flushed
/// together when it ends, each with every frame queued meanwhile in one
/// write: busy streams get few sends, in one burst per interval (a reader
/// woken once reads many), while quiet clients never wait.
class io_loop {
public:
  using clock = std::chrono::steady_clock;
  static constexpr std::chrono::milliseconds tick_interval{250};

  /// A session's write, built while a pass runs and sent when it ends.
  struct queued_write {
    std::shared_ptr<ws_session> session;
    std::string bytes;          // the whole write (its capacity is kept for later passes)
    std::vector<frame> frames;  // the frames in it, accounted once it is written
    int flags = 0;              // MSG_MORE: the connection closes right after
    bool has_close = false;     // it ends with our close frame
    bool more = false;          // the session has more queued behind this write
  };

  /// `pace_interval`: how long a paced session waits at most. `send_batch`:
  /// how many of a pass's writes go out in one system call (0 or 1: one
  /// send each).
  explicit io_loop(std::chrono::microseconds pace_interval = std::chrono::microseconds{4'000},
                   unsigned send_batch = 256);

  boost::asio::io_context& context() { return ioc_; }

  /// Thread-safe: `s` gets flush() called on this loop's thread soon.
  void request_flush(std::shared_ptr<ws_session> s);

  /// Loop thread: `s` is ticked until remove(s). Each session is added once.
  void add(ws_session* s);
  void remove(ws_session* s);

  /// Loop thread: `s` gets paced_flush() called at the end of the current
  /// pacing interval.
  void pace(std::shared_ptr<ws_session> s);

  /// Loop thread: a write to fill and leave here, sent when the current pass
  /// ends; null outside a pass or when sends are not batched (then the
  /// session sends itself). Only for writes of up to max_queued_write bytes:
  /// the loop keeps its buffers, and a larger write's system call costs
  /// little next to copying it.
  queued_write* queue_write();
  static constexpr size_t max_queued_write = 16 * 1024;

private:
  void run_flush();
  /// Calls `flush` on each of `sessions` (then clears it); the writes they
  /// leave with queue_write go out together.
  void flush_all(std::vector<std::shared_ptr<ws_session>>& sessions,
                 void (ws_session::*flush)());
  void send_writes(); // sends what queue_write handed out; ends the batch
  void arm_tick();
  void on_tick();
  void on_pacing();

  boost::asio::io_context ioc_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::mutex mtx_;
  std::vector<std::shared_ptr<ws_session>> dirty_; // guarded by mtx_
  bool posted_ = false;                            // guarded by mtx_: a flush pass is posted
  std::vector<std::shared_ptr<ws_session>> flushing_; // loop thread only
  // Loop thread only. Invariant: sessions_[s->loop_slot_] == s for every
  // added session s.
  std::vector<ws_session*> sessions_;
  boost::asio::steady_timer tick_timer_;
  // Loop thread only: sessions waiting for the end of the pacing interval.
  std::chrono::microseconds pacing_interval_;
  std::vector<std::shared_ptr<ws_session>> paced_;
  std::vector<std::shared_ptr<ws_session>> pacing_; // being flushed
  boost::asio::steady_timer pacing_timer_;
  // Loop thread only: the writes of the pass in progress. writes_[0,
  // queued_) are filled; entries past that keep their buffers for later.
  send_batch batch_;
  bool collecting_ = false;
  size_t queued_ = 0;
  std::vector<queued_write> writes_;
  std::vector<send_batch::request> requests_;
  std::vector<ssize_t> results_;
};

} // namespace tickgate::net
