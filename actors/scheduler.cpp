#include "actors/scheduler.hpp"

#include <functional>
#include <mutex>
#include <thread>
#include <unordered_set>

#include <caf/actor_system.hpp>
#include <caf/config_value.hpp>
#include <caf/detail/set_thread_name.hpp>
#include <caf/detail/thread_safe_actor_clock.hpp>
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

class node_coordinator;

// The calling I/O thread's held-back wakes (hold_worker_wakes).
struct held_wakes {
  node_coordinator* owner = nullptr;
  std::function<void()> post_wake;
  size_t jobs = 0; // queued since the last wake
};
thread_local held_wakes held;

class node_coordinator : public caf::scheduler::coordinator<caf::policy::work_sharing> {
public:
  using super = caf::scheduler::coordinator<caf::policy::work_sharing>;

  using super::super;

  sparse_clock& clock() noexcept override {
    return clock_;
  }

  // Jobs from an I/O thread that holds its wakes join the central queue
  // without a notify: a running worker takes them anyway, a sleeping one is
  // woken by wake().
  void enqueue(caf::resumable* job) override {
    if (held.owner != this) {
      super::enqueue(job);
      return;
    }
    {
      auto& d = data();
      std::lock_guard<std::mutex> guard{d.lock};
      d.queue.push_back(job);
    }
    if (held.jobs++ == 0)
      held.post_wake();
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
};

} // namespace

void hold_worker_wakes(caf::actor_system& sys, std::function<void()> post_wake) {
  auto* node = dynamic_cast<node_coordinator*>(&sys.scheduler());
  if (!node)
    return; // CAF's work-stealing scheduler: its workers poll before sleeping
  held.owner = node;
  held.post_wake = std::move(post_wake);
  held.jobs = 0;
}

void wake_held_workers() {
  if (!held.owner || held.jobs == 0)
    return;
  auto jobs = held.jobs;
  held.jobs = 0;
  held.owner->wake(jobs);
}

void stop_holding_worker_wakes() {
  wake_held_workers();
  held = held_wakes{};
}

void use_node_scheduler(caf::actor_system_config& cfg) {
  if (caf::get_or(cfg, "scheduler.policy", caf::atom("stealing")) != caf::atom("sharing"))
    return;
  cfg.module_factories.push_back([](caf::actor_system& sys) -> caf::actor_system::module* {
    return new node_coordinator(sys);
  });
}

} // namespace tickgate
