#pragma once

#include <caf/actor_system_config.hpp>

namespace tickgate {

/// Installs tickgate's scheduler when the node runs CAF's work-sharing
/// policy: CAF's own coordinator, with a clock that is told about an actor's
/// end only if that actor ever set a timeout.
///
/// Why: CAF 0.17 cancels every terminating actor's timeouts by queueing an
/// event for its clock thread and waking it, even when the actor never set
/// one. With one connection actor per client that is a cross-thread wake per
/// disconnect (8 % of a core at 6k connects/s). Connection actors use no
/// receive or request timeouts (their deadlines are delayed messages, which
/// the clock keeps either way), so their end costs the clock nothing now.
void use_node_scheduler(caf::actor_system_config& cfg);

} // namespace tickgate
