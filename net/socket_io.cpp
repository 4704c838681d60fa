#include "net/socket_io.hpp"

#include "net/send_batch.hpp"

#include <cerrno>

#include <sys/socket.h>

#include <boost/asio/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <spdlog/spdlog.h>

namespace tickgate::net {

namespace {

size_t send_now(loop_socket& s, const char* data, size_t size, int flags,
                boost::system::error_code& ec) {
  auto n = send_once(send_batch::request{s.native_handle(), data, size, flags});
  if (n >= 0) {
    ec = {};
    return static_cast<size_t>(n);
  }
  ec.assign(static_cast<int>(-n), boost::asio::error::get_system_category());
  return 0;
}

} // namespace

size_t receive_now(loop_socket& s, char* data, size_t size, boost::system::error_code& ec) {
  for (;;) {
    auto n = ::recv(s.native_handle(), data, size, MSG_DONTWAIT);
    if (n > 0) {
      ec = {};
      return static_cast<size_t>(n);
    }
    if (n == 0) {
      ec = boost::asio::error::eof;
      return 0;
    }
    if (errno != EINTR) {
      ec.assign(errno, boost::asio::error::get_system_category());
      return 0;
    }
  }
}

size_t send_what_fits(loop_socket& s, std::string_view out, boost::system::error_code& ec,
                      bool last) {
  size_t from = 0;
  while (from < out.size()) {
    auto n = send_now(s, out.data() + from, out.size() - from, last ? MSG_MORE : 0, ec);
    if (would_block(ec)) {
      ec = {};
      break;
    }
    if (ec)
      break;
    from += n;
  }
  return from;
}

bool would_block(const boost::system::error_code& ec) {
  return ec == boost::asio::error::would_block || ec == boost::asio::error::try_again;
}

bool is_expected_end(const boost::system::error_code& ec) {
  return ec == boost::asio::error::eof || ec == boost::asio::error::operation_aborted
         || ec == boost::asio::error::connection_reset || ec == boost::beast::error::timeout
         || ec == boost::beast::http::error::end_of_stream;
}

void fail(const boost::system::error_code& ec, std::string_view what) {
  if (!is_expected_end(ec))
    spdlog::debug("{} error={}", what, ec.message());
}

} // namespace tickgate::net
