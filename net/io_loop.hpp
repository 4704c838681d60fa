#pragma once

#include <memory>
#include <mutex>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

namespace tickgate::net {

class ws_session;

/// One I/O thread's event loop. Every socket belongs to exactly one loop, so
/// a session's handlers never run concurrently and need no strand.
///
/// Outbound batching: actors queue frames on sessions from their own
/// threads; a session with newly queued frames asks its loop for a flush.
/// The loop posts one flush pass for all such sessions (not one handler per
/// frame or per session), and each session then writes everything it has
/// queued in one socket write.
class io_loop {
public:
  static constexpr std::chrono::milliseconds tick_interval{250};

  /// `coalesce`: how long a flush pass waits after the first frame asks for
  /// it, so more frames share each socket write (0: at once).
  explicit io_loop(std::chrono::microseconds coalesce = std::chrono::microseconds{0});

  boost::asio::io_context& context() { return ioc_; }

  /// Thread-safe: `s` gets flush() called on this loop's thread soon.
  void request_flush(std::shared_ptr<ws_session> s);

  /// Loop thread: `s` is ticked until remove(s). Each session is added once.
  void add(ws_session* s);
  void remove(ws_session* s);

private:
  void run_flush();
  void arm_tick();
  void on_tick();

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
  std::chrono::microseconds coalesce_;
  boost::asio::steady_timer flush_timer_; // loop thread only
};

} // namespace tickgate::net
