#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace tickgate {

/// WebSocket framing (RFC 6455 section 5) as a server sees it, without
/// sockets: the session feeds received bytes to a ws_reader and builds its
/// outgoing frames with append_ws_frame, so it can put many frames into one
/// socket write. No extensions are negotiated, so RSV bits must be zero.

enum class ws_opcode : uint8_t {
  continuation = 0x0,
  text = 0x1,
  binary = 0x2,
  close = 0x8,
  ping = 0x9,
  pong = 0xA,
};

/// One thing the client said.
struct ws_event {
  enum class kind : uint8_t {
    none,    // a fragment of a longer message was buffered; nothing to act on
    message, // a complete text or binary message in `payload`
    ping,    // answer with a pong carrying `payload`
    pong,
    close,   // the client closes; `code` (0: no code sent) and `payload` (reason)
  };
  kind what = kind::none;
  bool binary = false;
  uint16_t code = 0;
  std::string_view payload; // valid until the next call to ws_reader::next
};

/// Decodes client frames: checks masking, sizes and opcodes before it buffers
/// anything, unmasks in place, reassembles fragmented messages and validates
/// UTF-8 in text messages. After an error it stays failed.
class ws_reader {
public:
  explicit ws_reader(size_t max_message) : max_message_(max_message) {
  }

  /// Decodes the first frame in `data[0, size)` into `ev`, unmasking it in
  /// place. Returns the bytes it used; 0 means the frame is not complete yet
  /// (or the reader failed: check failed()).
  size_t next(char* data, size_t size, ws_event& ev);

  bool failed() const { return error_code_ != 0; }
  /// The close code the failure calls for: 1002 protocol error, 1007 invalid
  /// UTF-8, 1009 message too big.
  uint16_t error_code() const { return error_code_; }
  std::string_view error_reason() const { return error_reason_; }

  /// Drops the buffer of a fragmented message if it holds capacity it no
  /// longer needs (idle connections keep nothing).
  void trim();

private:
  size_t fail(uint16_t code, const char* reason);

  size_t max_message_;
  std::string fragments_;       // the message being reassembled
  bool in_message_ = false;     // a non-final text/binary frame was seen
  bool message_binary_ = false;
  uint16_t error_code_ = 0;
  const char* error_reason_ = "";
};

/// Bytes of the header of an unmasked server frame carrying `payload_size`.
size_t ws_header_size(size_t payload_size);

/// Appends one complete, unmasked server frame (FIN set) to `out`.
void append_ws_frame(std::string& out, ws_opcode op, std::string_view payload);

/// Appends a close frame with `code` and `reason` (cut to fit 125 bytes at
/// a UTF-8 boundary).
void append_ws_close(std::string& out, uint16_t code, std::string_view reason);

/// Whether a client may send `code` in a close frame (RFC 6455 7.4).
bool is_valid_close_code(uint16_t code);

} // namespace tickgate
