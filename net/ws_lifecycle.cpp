#include "net/ws_lifecycle.hpp"

namespace tickgate::net {

void ws_lifecycle::opened() {
  if (phase_ == ws_phase::opening)
    phase_ = ws_phase::open;
}

bool ws_lifecycle::start_close(close_kind kind) {
  if (close_started())
    return false;
  switch (kind) {
    case close_kind::graceful:
      phase_ = ws_phase::closing;
      break;
    case close_kind::echo:
      phase_ = ws_phase::echoing;
      break;
    case close_kind::failure:
      phase_ = ws_phase::failing;
      break;
  }
  return true;
}

bool ws_lifecycle::close_written() {
  switch (phase_) {
    case ws_phase::closing:
      phase_ = ws_phase::awaiting_close;
      return false;
    case ws_phase::echoing:
    case ws_phase::failing:
      return true;
    default:
      return false;
  }
}

ws_lifecycle::client_close ws_lifecycle::on_client_close() {
  switch (phase_) {
    case ws_phase::opening:
    case ws_phase::open:
      return client_close::echo;
    case ws_phase::closing:
      phase_ = ws_phase::echoing;
      return client_close::wait;
    case ws_phase::awaiting_close:
      return client_close::linger;
    default:
      return client_close::ignore;
  }
}

bool ws_lifecycle::linger() {
  if (phase_ == ws_phase::finished)
    return false;
  // echoing: the client closed first; awaiting_close: it has just answered.
  bool client_closed = phase_ == ws_phase::echoing || phase_ == ws_phase::awaiting_close;
  phase_ = ws_phase::lingering;
  return client_closed;
}

bool ws_lifecycle::finish() {
  if (phase_ == ws_phase::finished)
    return false;
  phase_ = ws_phase::finished;
  return true;
}

const char* to_string(ws_phase p) {
  switch (p) {
    case ws_phase::opening:
      return "opening";
    case ws_phase::open:
      return "open";
    case ws_phase::closing:
      return "closing";
    case ws_phase::echoing:
      return "echoing";
    case ws_phase::failing:
      return "failing";
    case ws_phase::awaiting_close:
      return "awaiting_close";
    case ws_phase::lingering:
      return "lingering";
    case ws_phase::finished:
      return "finished";
  }
  return "?";
}

} // namespace tickgate::net
