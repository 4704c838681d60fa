// The node's scheduler: CAF's work-sharing coordinator with a clock that
// skips the end-of-life cancellation for actors that never set a timeout.
// Timeouts must still fire, and be cancelled, exactly as with CAF's own.
// I/O threads may hold back worker wake-ups; held jobs must still run.

#include <algorithm>
#include <atomic>
#include <future>
#include <memory>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include <caf/all.hpp>

#include "actors/scheduler.hpp"
#include "support/node_process.hpp"

using namespace std::chrono_literals;

namespace {

struct sharing_config : caf::actor_system_config {
  sharing_config() {
    set("scheduler.policy", caf::atom("sharing"));
    set("scheduler.max-threads", size_t{1});
    tickgate::use_node_scheduler(*this);
  }
};

// Waits until the only worker has run every job queued so far (the spawned
// actors' start) and sleeps: from then on only a wake makes it run a job.
::testing::AssertionResult the_worker_sleeps(caf::actor_system& sys) {
  if (tickgate::test::eventually([&] { return tickgate::idle_workers(sys) == 1; }))
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "the worker never went to sleep";
}

// Every actor here takes an argument: CAF 0.17 spawning a function without
// arguments dereferences an empty pointer (reported by UBSan).
constexpr int unused = 0;

} // namespace

TEST(node_scheduler, a_receive_timeout_fires) {
  sharing_config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  auto waiter = sys.spawn([](caf::event_based_actor* a, caf::actor report) -> caf::behavior {
    return {caf::after(std::chrono::milliseconds(30)) >> [a, report] {
      a->send(report, caf::ok_atom::value);
      a->quit();
    }};
  }, caf::actor{self});
  bool fired = false;
  self->receive([&](caf::ok_atom) { fired = true; },
                caf::after(std::chrono::seconds(5)) >> [] {});
  EXPECT_TRUE(fired);
}

TEST(node_scheduler, a_request_to_a_silent_actor_times_out) {
  sharing_config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  auto silent = sys.spawn([](caf::event_based_actor*, int) -> caf::behavior {
    return {[](int) -> caf::result<int> { return caf::delegated<int>{}; }};
  }, unused);
  auto asker = sys.spawn([](caf::event_based_actor* a, caf::actor target,
                            caf::actor report) -> caf::behavior {
    a->request(target, std::chrono::milliseconds(30), 1)
      .then([](int) {},
            [a, report](caf::error& e) {
              a->send(report, e == caf::sec::request_timeout);
              a->quit();
            });
    return {[](caf::unit_t) {}};
  }, silent, caf::actor{self});
  bool timed_out = false;
  self->receive([&](bool t) { timed_out = t; },
                caf::after(std::chrono::seconds(5)) >> [] {});
  EXPECT_TRUE(timed_out);
  caf::anon_send_exit(silent, caf::exit_reason::user_shutdown);
}

TEST(node_scheduler, an_actor_ended_with_a_pending_timeout_is_released_at_once) {
  sharing_config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  // Actors that end without a timeout must not disturb the bookkeeping.
  for (int i = 0; i < 1000; ++i)
    sys.spawn([](caf::event_based_actor* a, int) { a->quit(); }, unused);
  // The clock holds an actor with a pending timeout until the timeout is
  // cancelled: the actor must be freed when it ends, not ten seconds later.
  auto timed = sys.spawn([](caf::event_based_actor* a, int) -> caf::behavior {
    return {[a](caf::ok_atom) { a->quit(); },
            caf::after(std::chrono::seconds(10)) >> [] {}};
  }, unused);
  auto addr = timed.address();
  self->monitor(timed);
  self->send(timed, caf::ok_atom::value);
  timed = nullptr;
  bool down = false;
  self->receive([&](caf::down_msg&) { down = true; },
                caf::after(std::chrono::seconds(5)) >> [] {});
  ASSERT_TRUE(down);
  bool released = false;
  for (int i = 0; i < 200 && !released; ++i) {
    released = caf::actor_cast<caf::strong_actor_ptr>(addr) == nullptr;
    if (!released)
      std::this_thread::sleep_for(10ms);
  }
  EXPECT_TRUE(released);
}

namespace {

// Counts int messages; fulfils `done` at the hundredth.
caf::behavior counter(caf::event_based_actor*, std::shared_ptr<std::promise<void>> done) {
  auto n = std::make_shared<int>(0);
  return {[=](int) {
    if (++*n == 100)
      done->set_value();
  }};
}

// Sends 100 messages from a thread that holds its wakes, as an I/O thread
// does; returns how often that thread was asked to post a wake.
int send_from_a_holding_thread(caf::actor_system& sys, const caf::actor& target) {
  int posts = 0;
  std::thread io{[&] {
    tickgate::hold_worker_wakes(sys, [&] { ++posts; });
    for (int i = 0; i < 100; ++i)
      caf::anon_send(target, i);
    tickgate::wake_held_workers(); // what the posted wake does on an I/O thread
    tickgate::stop_holding_worker_wakes();
  }};
  io.join();
  return posts;
}

} // namespace

TEST(node_scheduler, jobs_held_by_an_io_thread_run_once_it_wakes_the_workers) {
  sharing_config cfg;
  caf::actor_system sys{cfg};
  auto done = std::make_shared<std::promise<void>>();
  auto finished = done->get_future();
  auto target = sys.spawn(counter, done);
  // The only worker has finished the actor's start and sleeps, so only the
  // held wake can bring it back.
  ASSERT_TRUE(the_worker_sleeps(sys));
  EXPECT_EQ(send_from_a_holding_thread(sys, target), 1); // one wake per pass, not per job
  EXPECT_EQ(finished.wait_for(5s), std::future_status::ready);
}

TEST(node_scheduler, holding_wakes_under_the_stealing_policy_changes_nothing) {
  caf::actor_system_config cfg;
  cfg.set("scheduler.policy", caf::atom("stealing"));
  tickgate::use_node_scheduler(cfg);
  caf::actor_system sys{cfg};
  auto done = std::make_shared<std::promise<void>>();
  auto finished = done->get_future();
  auto target = sys.spawn(counter, done);
  EXPECT_EQ(send_from_a_holding_thread(sys, target), 0);
  EXPECT_EQ(finished.wait_for(5s), std::future_status::ready);
}

namespace {

// Records on which thread each of its int messages ran and forwards it to
// `next` (if any); fulfils `done` at the hundredth.
struct thread_log {
  std::mutex mtx;
  std::vector<std::thread::id> ran_on;
};

caf::behavior recorder(caf::event_based_actor* self, std::shared_ptr<thread_log> log,
                       caf::actor next, std::shared_ptr<std::promise<void>> done) {
  auto n = std::make_shared<int>(0);
  return {[=](int i) {
    {
      std::lock_guard<std::mutex> guard{log->mtx};
      log->ran_on.push_back(std::this_thread::get_id());
    }
    if (next)
      self->send(next, i);
    if (++*n == 100)
      done->set_value();
  }};
}

// Runs `pass` on a new thread that holds its worker wakes as an I/O thread
// does (running up to `budget` actor turns, started within `run_for`, itself
// when it wakes them), then stops holding; returns that thread's id.
template <class Pass>
std::thread::id on_an_io_thread(caf::actor_system& sys, size_t budget, Pass pass,
                                std::chrono::microseconds run_for = 1ms) {
  std::thread::id id;
  std::thread io{[&] {
    id = std::this_thread::get_id();
    tickgate::hold_worker_wakes(sys, [] {}, budget, run_for);
    pass();
    tickgate::stop_holding_worker_wakes();
  }};
  io.join();
  return id;
}

} // namespace

TEST(node_scheduler, an_io_thread_runs_the_actors_its_messages_made_runnable_itself) {
  sharing_config cfg;
  caf::actor_system sys{cfg};
  auto log = std::make_shared<thread_log>();
  auto last_done = std::make_shared<std::promise<void>>();
  auto first_done = std::make_shared<std::promise<void>>();
  auto last = sys.spawn(recorder, log, caf::actor{}, last_done);
  auto first = sys.spawn(recorder, log, last, first_done);
  ASSERT_TRUE(the_worker_sleeps(sys)); // both started
  bool all_done_in_the_pass = false;
  auto io_id = on_an_io_thread(
    sys, 64,
    [&] {
      for (int i = 0; i < 100; ++i)
        caf::anon_send(first, i);
      tickgate::wake_held_workers(); // one pass: first's 100 messages, then last's
      all_done_in_the_pass =
        last_done->get_future().wait_for(0s) == std::future_status::ready;
    },
    60s); // turns, not time, bound this pass (a slow or preempted thread stays within it)
  EXPECT_TRUE(all_done_in_the_pass);
  std::lock_guard<std::mutex> guard{log->mtx};
  ASSERT_EQ(log->ran_on.size(), 200u);
  for (auto& id : log->ran_on)
    EXPECT_EQ(id, io_id);
}

TEST(node_scheduler, jobs_over_an_io_threads_budget_run_on_a_worker) {
  sharing_config cfg;
  caf::actor_system sys{cfg};
  auto log = std::make_shared<thread_log>();
  auto a_done = std::make_shared<std::promise<void>>();
  auto b_done = std::make_shared<std::promise<void>>();
  auto a_finished = a_done->get_future();
  auto b_finished = b_done->get_future();
  auto a = sys.spawn(recorder, log, caf::actor{}, a_done);
  auto b = sys.spawn(recorder, log, caf::actor{}, b_done);
  ASSERT_TRUE(the_worker_sleeps(sys));
  auto io_id = on_an_io_thread(sys, 1, [&] { // one actor turn per pass
    for (int i = 0; i < 100; ++i) {
      caf::anon_send(a, i);
      caf::anon_send(b, i);
    }
    tickgate::wake_held_workers();
  });
  ASSERT_EQ(a_finished.wait_for(5s), std::future_status::ready);
  ASSERT_EQ(b_finished.wait_for(5s), std::future_status::ready);
  std::lock_guard<std::mutex> guard{log->mtx};
  auto on_io = std::count(log->ran_on.begin(), log->ran_on.end(), io_id);
  // One turn of 16 messages here (workers never see the thread's run list
  // before the hand-over): a worker ran the rest.
  EXPECT_EQ(on_io, 16);
}

TEST(node_scheduler, a_pass_hands_heavy_turns_to_a_worker_after_about_a_millisecond) {
  sharing_config cfg;
  caf::actor_system sys{cfg};
  auto log = std::make_shared<thread_log>();
  auto left = std::make_shared<std::atomic<int>>(10);
  auto all_done = std::make_shared<std::promise<void>>();
  auto finished = all_done->get_future();
  // Ten actors whose one message takes 400 us each (a big fan-out, say).
  std::vector<caf::actor> heavy;
  for (int i = 0; i < 10; ++i)
    heavy.push_back(sys.spawn([=](caf::event_based_actor*, int) -> caf::behavior {
      return {[=](int) {
        auto until = std::chrono::steady_clock::now() + 400us;
        while (std::chrono::steady_clock::now() < until) {
        }
        {
          std::lock_guard<std::mutex> guard{log->mtx};
          log->ran_on.push_back(std::this_thread::get_id());
        }
        if (--*left == 0)
          all_done->set_value();
      }};
    }, unused));
  ASSERT_TRUE(the_worker_sleeps(sys));
  auto io_id = on_an_io_thread(sys, 64, [&] { // turns to spare: time is the bound
    for (auto& a : heavy)
      caf::anon_send(a, 1);
    tickgate::wake_held_workers();
  });
  ASSERT_EQ(finished.wait_for(5s), std::future_status::ready);
  std::lock_guard<std::mutex> guard{log->mtx};
  auto on_io = std::count(log->ran_on.begin(), log->ran_on.end(), io_id);
  // 400, 800, 1,200 us: the third turn ends the pass (fewer when the thread
  // was preempted); a worker ran the other seven or more.
  EXPECT_GE(on_io, 1);
  EXPECT_LE(on_io, 3);
}

TEST(node_scheduler, an_io_thread_running_actors_does_not_hold_up_shutdown) {
  sharing_config cfg;
  auto sys = std::make_unique<caf::actor_system>(cfg);
  auto log = std::make_shared<thread_log>();
  auto done = std::make_shared<std::promise<void>>();
  auto hundred = done->get_future();
  auto target = sys->spawn(recorder, log, caf::actor{}, done);
  std::atomic<bool> stop{false};
  std::thread::id io_id;
  std::thread io{[&] {
    io_id = std::this_thread::get_id();
    // Each message goes to an idle actor (the one before it was handled), so
    // this thread's send makes it runnable and the pass runs it here; an
    // actor kept busy by a stream of messages would stay with the worker.
    auto handled = [&] {
      std::lock_guard<std::mutex> guard{log->mtx};
      return log->ran_on.size();
    };
    auto deadline = std::chrono::steady_clock::now() + 10s;
    tickgate::hold_worker_wakes(*sys, [] {}, 64);
    for (size_t sent = 1; !stop && std::chrono::steady_clock::now() < deadline; ++sent) {
      caf::anon_send(target, 1);
      tickgate::wake_held_workers();
      while (handled() < sent && std::chrono::steady_clock::now() < deadline)
        std::this_thread::yield();
    }
    tickgate::stop_holding_worker_wakes();
  }};
  // Stop the thread only once it is running the actor: a hundred messages in.
  EXPECT_EQ(hundred.wait_for(10s), std::future_status::ready);
  stop = true;
  io.join();
  {
    std::lock_guard<std::mutex> guard{log->mtx};
    EXPECT_GT(std::count(log->ran_on.begin(), log->ran_on.end(), io_id), 0);
  }
  caf::anon_send_exit(target, caf::exit_reason::user_shutdown);
  target = nullptr;
  sys.reset(); // waits for the worker: must return (a hang fails at ctest's timeout)
}

TEST(node_scheduler, an_io_thread_leaves_jobs_other_threads_queued_to_the_workers) {
  sharing_config cfg;
  caf::actor_system sys{cfg};
  // Keep the only worker busy, so what another thread queues stays queued.
  std::promise<void> entered;
  std::promise<void> gate;
  auto open = gate.get_future().share();
  auto blocker = sys.spawn([&entered, open](caf::event_based_actor*, int) -> caf::behavior {
    return {[&entered, open](int) {
      entered.set_value();
      open.wait();
    }};
  }, unused);
  auto theirs_log = std::make_shared<thread_log>();
  auto mine_log = std::make_shared<thread_log>();
  auto theirs_done = std::make_shared<std::promise<void>>();
  auto mine_done = std::make_shared<std::promise<void>>();
  auto theirs_finished = theirs_done->get_future();
  auto theirs = sys.spawn(recorder, theirs_log, caf::actor{}, theirs_done);
  auto mine = sys.spawn(recorder, mine_log, caf::actor{}, mine_done);
  ASSERT_TRUE(the_worker_sleeps(sys)); // all started
  caf::anon_send(blocker, 1);
  entered.get_future().wait();
  for (int i = 0; i < 100; ++i)
    caf::anon_send(theirs, i); // from a thread that does not hold its wakes
  bool mine_done_in_the_pass = false;
  auto io_id = on_an_io_thread(sys, 64, [&] {
    for (int i = 0; i < 100; ++i)
      caf::anon_send(mine, i);
    tickgate::wake_held_workers();
    mine_done_in_the_pass = mine_done->get_future().wait_for(0s) == std::future_status::ready;
  });
  EXPECT_TRUE(mine_done_in_the_pass);
  {
    std::lock_guard<std::mutex> guard{theirs_log->mtx};
    EXPECT_TRUE(theirs_log->ran_on.empty()); // still queued for the worker
  }
  gate.set_value();
  ASSERT_EQ(theirs_finished.wait_for(5s), std::future_status::ready);
  std::lock_guard<std::mutex> guard{theirs_log->mtx};
  for (auto& id : theirs_log->ran_on)
    EXPECT_NE(id, io_id);
}

TEST(node_scheduler, jobs_an_io_thread_still_holds_when_its_loop_ends_run_on_a_worker) {
  sharing_config cfg;
  caf::actor_system sys{cfg};
  auto log = std::make_shared<thread_log>();
  auto done = std::make_shared<std::promise<void>>();
  auto finished = done->get_future();
  auto target = sys.spawn(recorder, log, caf::actor{}, done);
  ASSERT_TRUE(the_worker_sleeps(sys)); // started
  auto io_id = on_an_io_thread(sys, 64, [&] {
    for (int i = 0; i < 100; ++i)
      caf::anon_send(target, i);
    // No pass: the helper stops holding with all of them still held.
  });
  ASSERT_EQ(finished.wait_for(5s), std::future_status::ready);
  std::lock_guard<std::mutex> guard{log->mtx};
  ASSERT_EQ(log->ran_on.size(), 100u);
  for (auto& id : log->ran_on)
    EXPECT_NE(id, io_id);
}
