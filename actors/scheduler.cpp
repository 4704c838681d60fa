#include "actors/scheduler.hpp"

#include <algorithm>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_set>
#include <utility>
#include <vector>

#include <caf/abstract_actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/config_value.hpp>
#include <caf/detail/set_thread_name.hpp>
#include <caf/detail/thread_safe_actor_clock.hpp>
#include <caf/execution_unit.hpp>
#include <caf/resumable.hpp>
#include <caf/policy/work_sharing.hpp>
#include <caf/scheduler/coordinator.hpp>
#include <caf/settings.hpp>

namespace tickgate {

namespace {

// Remembers which actors have timeouts outstanding in the clock; the
// cancellation at an actor's end goes to the clock thread only for those.
class sparse_clock : public caf::detail::thread_safe_actor_clock {
public:
  using super = caf::detail::thread_safe_actor_clock;

  void set_ordinary_timeout(time_point t, caf::abstract_actor* self,
                            caf::atom_value type, uint64_t id) override {
    note(self);
    super::set_ordinary_timeout(t, self, type, id);
  }

  void set_request_timeout(time_point t, caf::abstract_actor* self,
                           caf::message_id id) override {
    note(self);
    super::set_request_timeout(t, self, id);
  }

  void set_multi_timeout(time_point t, caf::abstract_actor* self,
                         caf::atom_value type, uint64_t id) override {
    note(self);
    super::set_multi_timeout(t, self, type, id);
  }

  void cancel_timeouts(caf::abstract_actor* self) override {
    {
      std::lock_guard<std::mutex> guard{mtx_};
      if (timed_.erase(self) == 0)
        return; // never set one: nothing to cancel
    }
    super::cancel_timeouts(self);
  }

private:
  void note(caf::abstract_actor* self) {
    std::lock_guard<std::mutex> guard{mtx_};
    timed_.insert(self);
  }

  std::mutex mtx_;
  std::unordered_set<caf::abstract_actor*> timed_;
};

// CAF's work-sharing policy, counting the workers that sleep on an empty
// queue (idle_workers). The count changes only when a worker goes to sleep
// or wakes, under the lock that sleep takes anyway.
class parking_sharing : public caf::policy::work_sharing {
public:
  struct coordinator_data : work_sharing::coordinator_data {
    using work_sharing::coordinator_data::coordinator_data;
    size_t parked = 0; // guarded by lock
  };

  template <class Worker>
  caf::resumable* dequeue(Worker* self) {
    auto& d = self->parent()->data();
    std::unique_lock<std::mutex> guard{d.lock};
    if (d.queue.empty()) {
      ++d.parked;
      d.cv.wait(guard, [&] { return !d.queue.empty(); });
      --d.parked;
    }
    auto* job = d.queue.front();
    d.queue.pop_front();
    return job;
  }
};

class node_coordinator;

// An I/O thread while it runs actors (hold_worker_wakes with run_here > 0):
// what an actor it runs makes runnable joins the thread's own run list, like
// the jobs its sockets' messages made runnable. The coordinator owns the
// units: an actor keeps a pointer to the unit that last ran it, and may
// outlive the I/O thread.
class io_unit : public caf::execution_unit {
public:
  io_unit(caf::actor_system& sys, caf::scheduler::abstract_coordinator& owner)
    : execution_unit(&sys), owner_(owner) {
  }

  void exec_later(caf::resumable* job) override {
    owner_.enqueue(job);
  }

private:
  caf::scheduler::abstract_coordinator& owner_;
};

// The calling I/O thread's held-back wakes (hold_worker_wakes).
struct held_wakes {
  node_coordinator* owner = nullptr;
  std::function<void()> post_wake;
  bool posted = false; // post_wake called, wake_held_workers not run yet
  size_t jobs = 0;     // put on the central queue unnotified since the last wake
  size_t run_here = 0; // jobs the thread runs itself per pass...
  // ...starting none after this long in the pass. Without the bound, with
  // HTTP publishes under overload, the I/O thread ran up to 64 topic fan-outs
  // per pass while the worker idled, and delivered far less (the wide
  // 100-topic row of tools/tickgate-bench/README.md, "How cost grows").
  // Connection actors' turns are short, so churn passes stay within it.
  std::chrono::microseconds run_for{}; // set by hold_worker_wakes (default 1 ms)
  io_unit* unit = nullptr;
  // run_here > 0: the actors this thread made runnable, run by it in
  // wake_held_workers. No other thread sees them until they are handed over.
  std::deque<caf::resumable*> local;
};
thread_local held_wakes held;

// Messages an actor handles per turn on an I/O thread: the thread's sockets
// wait meanwhile (a worker lets an actor run up to scheduler.max-throughput).
constexpr size_t io_turn_messages = 16;

class node_coordinator : public caf::scheduler::coordinator<parking_sharing> {
public:
  using super = caf::scheduler::coordinator<parking_sharing>;

  using super::super;

  sparse_clock& clock() noexcept override {
    return clock_;
  }

  // Jobs from an I/O thread that holds its wakes: actors it runs itself join
  // its own run list; the rest join the central queue without a notify (a
  // running worker takes them anyway, a sleeping one is woken by wake()).
  void enqueue(caf::resumable* job) override {
    if (held.owner != this) {
      super::enqueue(job);
      return;
    }
    // Only event-based actors run on an I/O thread; any other job is queued
    // for the workers, woken at the end of the pass. (A virtual call: a
    // dynamic_cast here showed in the server's churn profile.)
    if (held.run_here > 0 && job->subtype() == caf::resumable::scheduled_actor) {
      held.local.push_back(job);
    } else {
      auto& d = data();
      std::lock_guard<std::mutex> guard{d.lock};
      d.queue.push_back(job);
      ++held.jobs;
    }
    if (!held.posted) {
      held.posted = true;
      held.post_wake();
    }
  }

  // Runs up to `budget` turns of the calling thread's own run list (what
  // they make runnable joins it), starting none after held.run_for, then
  // hands what is left to the workers.
  void run_local(caf::execution_unit& unit, size_t budget) {
    auto turn = std::min(max_throughput(), io_turn_messages);
    auto& local = held.local;
    auto until = std::chrono::steady_clock::now() + held.run_for;
    for (size_t n = 0; n < budget && !local.empty(); ++n) {
      if (n > 0 && std::chrono::steady_clock::now() >= until)
        break;
      auto* job = local.front();
      local.pop_front();
      switch (job->resume(&unit, turn)) {
        case caf::resumable::resume_later:
          local.push_back(job); // keeps its reference, as a worker's would
          break;
        case caf::resumable::done:
        case caf::resumable::awaiting_message:
          intrusive_ptr_release(job);
          break;
        case caf::resumable::shutdown_execution_unit:
          break; // no actor returns this
      }
    }
    hand_over_local();
  }

  // Moves the calling thread's run list to the central queue, unnotified.
  void hand_over_local() {
    if (held.local.empty())
      return;
    auto& d = data();
    std::lock_guard<std::mutex> guard{d.lock};
    held.jobs += held.local.size();
    d.queue.insert(d.queue.end(), held.local.begin(), held.local.end());
    held.local.clear();
  }

  io_unit& make_io_unit() {
    std::lock_guard<std::mutex> guard{units_mtx_};
    return *io_units_.emplace_back(std::make_unique<io_unit>(system(), *this));
  }

  size_t idle() {
    auto& d = data();
    std::lock_guard<std::mutex> guard{d.lock};
    return d.queue.empty() ? d.parked : 0; // a queued job has a worker woken or due
  }

  void wake(size_t jobs) {
    auto& d = data();
    std::lock_guard<std::mutex> guard{d.lock};
    if (jobs == 1)
      d.cv.notify_one();
    else
      d.cv.notify_all();
  }

protected:
  void start() override {
    // Running before the workers: actors spawned during start-up may set
    // timeouts at once.
    timer_ = std::thread{[this] {
      caf::detail::set_thread_name("caf.clock");
      system().thread_started();
      clock_.run_dispatch_loop();
      system().thread_terminates();
    }};
    super::start();
  }

  void stop() override {
    super::stop();
    clock_.cancel_dispatch_loop();
    timer_.join();
  }

private:
  // The base class still starts a dispatch thread for its own clock; nothing
  // is ever queued there, so it sleeps until shutdown.
  sparse_clock clock_;
  std::thread timer_;
  std::mutex units_mtx_;
  std::vector<std::unique_ptr<io_unit>> io_units_; // one per I/O thread that ran actors
};

} // namespace

void hold_worker_wakes(caf::actor_system& sys, std::function<void()> post_wake,
                       size_t run_here, std::chrono::microseconds run_for) {
  auto* node = dynamic_cast<node_coordinator*>(&sys.scheduler());
  if (!node)
    return; // CAF's work-stealing scheduler: its workers poll before sleeping
  held.owner = node;
  held.post_wake = std::move(post_wake);
  held.posted = false;
  held.jobs = 0;
  held.run_here = run_here;
  held.run_for = run_for;
  if (run_here > 0)
    held.unit = &node->make_io_unit();
}

void wake_held_workers() {
  if (!held.owner || !held.posted)
    return;
  // Still set while the jobs run: what they make runnable joins the run list
  // and is run or handed over below, without posting another wake.
  if (held.run_here > 0)
    held.owner->run_local(*held.unit, held.run_here);
  held.posted = false;
  if (held.jobs > 0)
    held.owner->wake(std::exchange(held.jobs, 0));
}

void stop_holding_worker_wakes() {
  // The loop has ended: what it still holds goes to the workers.
  if (held.owner) {
    held.owner->hand_over_local();
    if (held.jobs > 0)
      held.owner->wake(held.jobs);
  }
  held = held_wakes{};
}

size_t idle_workers(caf::actor_system& sys) {
  auto* node = dynamic_cast<node_coordinator*>(&sys.scheduler());
  return node ? node->idle() : 0;
}

void use_node_scheduler(caf::actor_system_config& cfg) {
  if (caf::get_or(cfg, "scheduler.policy", caf::atom("stealing")) != caf::atom("sharing"))
    return;
  cfg.module_factories.push_back([](caf::actor_system& sys) -> caf::actor_system::module* {
    return new node_coordinator(sys);
  });
}

} // namespace tickgate
