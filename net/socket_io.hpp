#pragma once

#include <cstddef>
#include <string_view>

#include <boost/system/error_code.hpp>

#include "net/io_loop.hpp"

namespace tickgate::net {

// Reads and writes that never block, on the descriptor itself: MSG_DONTWAIT
// per call instead of asio's non_blocking(true), which costs an ioctl per
// connection. Errors come back as asio's (would_block, eof, ...).

/// Reads what the socket holds now, at most `size` bytes.
size_t receive_now(loop_socket& s, char* data, size_t size, boost::system::error_code& ec);

/// Sends as much of `out` as the socket takes now; returns how much that was.
/// `ec` is set only for a real error (would_block just stops). `last`: the
/// connection is closed or shut down right after this write, so the kernel
/// may hold it back (MSG_MORE) and send it in one segment with the FIN.
size_t send_what_fits(loop_socket& s, std::string_view out, boost::system::error_code& ec,
                      bool last = false);

/// would_block / try_again: nothing to read or no room to write now.
bool would_block(const boost::system::error_code& ec);

/// How a connection of the edge ends normally: the peer hung up (eof,
/// end_of_stream, reset), we closed it (operation_aborted), or a deadline
/// passed (timeout, logged where it is decided).
bool is_expected_end(const boost::system::error_code& ec);

/// The edge's one report of a failed operation `what` (e.g. "conn.end",
/// "http.read_failed"): logged at debug level, unless `ec` is an expected
/// end of a connection (is_expected_end).
void fail(const boost::system::error_code& ec, std::string_view what);

} // namespace tickgate::net
