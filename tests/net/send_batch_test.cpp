// Socket sends made together (io_uring) or one by one: each request reaches
// its own socket whole, a full or broken socket gets its own result, and no
// send blocks.
#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <string>
#include <vector>

#include <sys/socket.h>
#include <unistd.h>

#include "net/send_batch.hpp"

using tickgate::net::send_batch;

namespace {

struct socket_pair {
  int local = -1; // the side sends go to
  int peer = -1;  // the side that reads them
  socket_pair() {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0) {
      local = fds[0];
      peer = fds[1];
    }
  }
  ~socket_pair() {
    for (int fd : {local, peer})
      if (fd >= 0)
        ::close(fd);
  }
  std::string read_all() const {
    std::string got;
    char buf[65536];
    for (;;) {
      auto n = ::recv(peer, buf, sizeof buf, MSG_DONTWAIT);
      if (n <= 0)
        return got;
      got.append(buf, static_cast<size_t>(n));
    }
  }
};

// Both ways of sending must behave the same; 0 is one send per request.
class send_batch_test : public ::testing::TestWithParam<unsigned> {
protected:
  void SetUp() override {
    if (GetParam() > 1 && !send_batch{GetParam()}.batching())
      GTEST_SKIP() << "this kernel refuses io_uring: every write is its own send";
  }
};

TEST_P(send_batch_test, every_request_reaches_its_own_socket_whole) {
  send_batch batch{GetParam()};
  std::vector<socket_pair> pairs(40);
  std::vector<std::string> payloads;
  std::vector<send_batch::request> requests;
  for (size_t i = 0; i < pairs.size(); ++i)
    payloads.push_back("write " + std::to_string(i) + std::string(i * 10, 'x'));
  for (size_t i = 0; i < pairs.size(); ++i)
    requests.push_back({pairs[i].local, payloads[i].data(), payloads[i].size(), 0});
  std::vector<ssize_t> results(requests.size(), -1);
  auto together = batch.send_all(requests, results);
  EXPECT_EQ(together, batch.batching() ? requests.size() : 0u);
  for (size_t i = 0; i < pairs.size(); ++i) {
    EXPECT_EQ(results[i], static_cast<ssize_t>(payloads[i].size())) << i;
    EXPECT_EQ(pairs[i].read_all(), payloads[i]) << i;
  }
}

TEST_P(send_batch_test, more_requests_than_one_call_takes_are_all_sent) {
  send_batch batch{GetParam() == 0 ? 0u : 4u};
  std::vector<socket_pair> pairs(11);
  std::vector<send_batch::request> requests;
  std::vector<std::string> payloads;
  for (size_t i = 0; i < pairs.size(); ++i)
    payloads.push_back(std::to_string(i * 7));
  for (size_t i = 0; i < pairs.size(); ++i)
    requests.push_back({pairs[i].local, payloads[i].data(), payloads[i].size(), 0});
  std::vector<ssize_t> results(requests.size(), -1);
  // Three calls of 4, 4 and 3, all of them together.
  EXPECT_EQ(batch.send_all(requests, results), batch.batching() ? requests.size() : 0u);
  for (size_t i = 0; i < pairs.size(); ++i) {
    EXPECT_EQ(results[i], static_cast<ssize_t>(payloads[i].size())) << i;
    EXPECT_EQ(pairs[i].read_all(), payloads[i]) << i;
  }
}

TEST_P(send_batch_test, a_full_socket_takes_what_fits_and_nothing_blocks) {
  send_batch batch{GetParam()};
  socket_pair full;
  socket_pair fine;
  int small = 4096;
  ASSERT_EQ(::setsockopt(full.local, SOL_SOCKET, SO_SNDBUF, &small, sizeof small), 0);
  std::string big(8 * 1024 * 1024, 'b');
  std::string hello = "hello";
  std::vector<send_batch::request> requests{{full.local, big.data(), big.size(), 0},
                                            {fine.local, hello.data(), hello.size(), 0}};
  std::vector<ssize_t> results(2, -1);
  auto started = std::chrono::steady_clock::now();
  batch.send_all(requests, results);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(2));
  // Part of it, never all: the peer reads nothing.
  EXPECT_GT(results[0], 0);
  EXPECT_LT(results[0], static_cast<ssize_t>(big.size()));
  EXPECT_EQ(results[1], 5);
  EXPECT_EQ(fine.read_all(), "hello");
  // Full to the brim now: the next send gets no room at all.
  std::vector<send_batch::request> again{{full.local, big.data(), big.size(), 0},
                                         {fine.local, hello.data(), hello.size(), 0}};
  batch.send_all(again, results);
  EXPECT_EQ(results[0], -EAGAIN);
  EXPECT_EQ(results[1], 5);
}

TEST_P(send_batch_test, a_broken_socket_gets_its_own_error_and_the_others_go_out) {
  send_batch batch{GetParam()};
  socket_pair gone;
  socket_pair fine;
  ::close(gone.peer);
  gone.peer = -1;
  socket_pair also_fine;
  std::string a = "first", b = "lost", c = "third";
  std::vector<send_batch::request> requests{{fine.local, a.data(), a.size(), 0},
                                            {gone.local, b.data(), b.size(), 0},
                                            {-1, b.data(), b.size(), 0}, // not a descriptor
                                            {also_fine.local, c.data(), c.size(), 0}};
  std::vector<ssize_t> results(requests.size(), 0);
  batch.send_all(requests, results); // no SIGPIPE either (MSG_NOSIGNAL)
  EXPECT_EQ(results[0], 5);
  EXPECT_EQ(results[1], -EPIPE);
  EXPECT_EQ(results[2], -EBADF);
  EXPECT_EQ(results[3], 5);
  EXPECT_EQ(fine.read_all(), "first");
  EXPECT_EQ(also_fine.read_all(), "third");
}

INSTANTIATE_TEST_SUITE_P(send_batch, send_batch_test, ::testing::Values(256u, 0u),
                         [](const ::testing::TestParamInfo<unsigned>& info) {
                           return info.param == 0 ? std::string{"one_send_each"}
                                                  : std::string{"together"};
                         });

TEST(send_batch, a_batch_of_one_or_none_is_plain_sends) {
  send_batch off{0};
  EXPECT_FALSE(off.batching());
  EXPECT_EQ(off.max_batch(), 1u);
  send_batch on{256};
  if (!on.batching())
    GTEST_SKIP() << "this kernel refuses io_uring; every write is its own send";
  EXPECT_EQ(on.max_batch(), 256u);
  socket_pair one;
  std::string x = "x";
  std::vector<send_batch::request> requests{{one.local, x.data(), x.size(), 0}};
  std::vector<ssize_t> results(1, 0);
  EXPECT_EQ(on.send_all(requests, results), 0u);
  EXPECT_EQ(results[0], 1);
}

} // namespace
