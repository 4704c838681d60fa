#pragma once

#include <cstdint>

namespace tickgate::net {

/// The life of one WebSocket connection, from the 101 to the closed socket,
/// as one state. Whoever closes first, the session writes its close frame;
/// once both close frames are through, the connection lingers (RFC 6455
/// section 7.1.1: the server closes the TCP connection first) and finishes.
///
///   opening ──101 written──► open ──close(graceful)──► closing ──ours written──► awaiting_close
///                             │                          │ client's close              │ client's close
///                             │                          ▼                             ▼
///                             ├──client's close──────► echoing ──ours written───► lingering
///                             └──broken protocol─────► failing ──ours written──────────┘
///   any state ──socket error, deadline, hang-up, abort──► finished
///
/// - open: client messages are decoded and handed to the connection actor.
/// - closing: our close frame is queued behind the frames already queued;
///   input is still read, for the client's close frame (messages are
///   ignored).
/// - echoing: the client closed (or answered ours before it was written);
///   our close frame is its answer, and input is discarded.
/// - failing: the client broke the protocol; our close frame is not waited
///   for an answer, and input is discarded.
/// - awaiting_close: ours is written; reading for the client's answer.
/// - lingering: both sides are done: sending is shut down and input read
///   and dropped until the client hangs up.
/// The whole close (closing .. lingering) has a deadline
/// (edge_settings::handshake_timeout), after which the connection finishes.
enum class ws_phase : uint8_t {
  opening,
  open,
  closing,
  echoing,
  failing,
  awaiting_close,
  lingering,
  finished,
};

/// Why a session starts its close.
enum class close_kind : uint8_t {
  graceful, // we close: wait for the client's close frame (-> closing)
  echo,     // answering the client's close frame (-> echoing)
  failure,  // the client broke the protocol: do not wait for an answer (-> failing)
};

/// The transitions of the diagram above; ws_session drives it and does the
/// I/O each transition calls for. Loop thread only.
class ws_lifecycle {
public:
  ws_phase phase() const { return phase_; }

  /// opening -> open.
  void opened();

  /// open (or opening) -> closing, echoing or failing. False when a close
  /// has already started or the connection is finished (nothing to do).
  bool start_close(close_kind kind);

  /// Our close frame went out. True: the connection lingers now (the
  /// client's close is already in, or is not waited for).
  bool close_written();

  /// What the client's close frame calls for.
  enum class client_close : uint8_t {
    echo,   // open: start an echo close (start_close(echo))
    wait,   // ours is not written yet; the connection lingers once it is
    linger, // ours is written: linger now
    ignore, // already discarding input, or finished
  };
  client_close on_client_close();

  /// -> lingering. True when the client's close frame came in (then input
  /// after it is drained at once; otherwise read until the client hangs up).
  bool linger();

  /// -> finished. False if it already was.
  bool finish();

  bool is_open() const { return phase_ == ws_phase::open; }
  bool finished() const { return phase_ == ws_phase::finished; }
  /// Our close frame is queued or written (or the connection is over):
  /// client messages are no longer acted on, and no pings are answered.
  bool close_started() const { return phase_ > ws_phase::open; }
  /// Input is read only to be dropped.
  bool discarding() const {
    return phase_ == ws_phase::echoing || phase_ == ws_phase::failing
           || phase_ == ws_phase::lingering || phase_ == ws_phase::finished;
  }
  /// The connection ends as soon as our close frame is written, so the
  /// frame may ride with the FIN.
  bool ends_with_our_close() const {
    return phase_ == ws_phase::echoing || phase_ == ws_phase::failing;
  }

private:
  ws_phase phase_ = ws_phase::opening;
};

const char* to_string(ws_phase p);

} // namespace tickgate::net
