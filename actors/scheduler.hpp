#pragma once

#include <chrono>
#include <functional>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

namespace tickgate {

/// Installs tickgate's scheduler when the node runs CAF's work-sharing
/// policy: CAF's own coordinator, with a clock that is told about an actor's
/// end only if that actor ever set a timeout.
///
/// Why: CAF 0.17 cancels every terminating actor's timeouts by queueing an
/// event for its clock thread and waking it, even when the actor never set
/// one. With one connection actor per client that is a cross-thread wake per
/// disconnect, a visible share of a core under connection churn. Connection
/// actors use no receive or request timeouts (their deadlines are delayed
/// messages, which the clock keeps either way), so their end costs the clock
/// nothing now (figures: tools/tickgate-bench/README.md, "Churn").
void use_node_scheduler(caf::actor_system_config& cfg);

/// Workers of the node scheduler asleep with nothing queued for them right
/// now (0 under another policy, or while any job is queued). Once this equals
/// scheduler.max-threads, every job started so far has run and a new one
/// runs only after a wake. For tests and inspection; costs a lock.
size_t idle_workers(caf::actor_system& sys);

/// Batched worker wake-ups for an I/O thread (node scheduler only; a no-op
/// under another policy).
///
/// Why: every message an I/O thread sends to an idle actor makes the actor
/// runnable, and CAF wakes a sleeping worker for each. At thousands of
/// connects per second that is a worker sleep/wake (and a preempted I/O
/// thread) per client message, several per connect+close cycle. Held back,
/// the jobs are queued at once and sleeping workers are woken once per pass
/// of the I/O loop over its ready handlers.
///
/// hold_worker_wakes: from now on, actors the calling thread makes runnable
/// are queued without waking a worker; after the first one, `post_wake` is
/// called and must make wake_held_workers() run on this thread soon (post it
/// to the thread's io_context: it then runs behind the handlers already due).
///
/// `run_here` > 0: the actors the calling thread makes runnable join a run
/// list of its own instead of the scheduler's queue, and wake_held_workers()
/// runs up to that many turns of them on the thread itself (16 messages per
/// actor per turn, no new turn once the pass has run `run_for`); what is left
/// then goes to the queue and the workers are woken for it. Why: a connect,
/// subscribe and close passes work between the I/O thread and a worker
/// several times, and each hand-over is a futex wake and a context switch on
/// both sides; on two cores the I/O thread running those actors itself makes
/// a churn cycle cheaper (tools/tickgate-bench/README.md, "Churn"). What the
/// actors run here make runnable (the router, a topic) joins the same list,
/// so it usually runs here in the same pass. Jobs other threads queued (Redis input, timers, workers) stay
/// with the workers. Handlers must never block: an I/O thread's sockets wait
/// while it runs them.
///
/// `run_for`: a pass starts no new turn once it has run this long (a topic's
/// fan-out to thousands of clients is a heavy turn; an I/O thread that ran
/// many of them in a row left its sockets waiting and the workers idle).
void hold_worker_wakes(caf::actor_system& sys, std::function<void()> post_wake,
                       size_t run_here = 0,
                       std::chrono::microseconds run_for = std::chrono::milliseconds{1});
/// Runs (see run_here) or wakes workers for the jobs held back since the
/// last call.
void wake_held_workers();
/// Wakes workers for what is held and stops holding (the thread's loop has
/// ended).
void stop_holding_worker_wakes();

} // namespace tickgate
