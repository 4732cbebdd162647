#pragma once
// One simulated render node, as a process of its own: registers, heartbeats (renew, node
// heartbeat, reap, mark lost) on a thread, and runs workers that claim one task, sleep instead
// of encoding, and complete it, all through rr::store::PgQueue. Runs until SIGTERM.

#include "farm_options.h"

namespace rr::farm {

// ready_fd: one byte is written once the node is registered; go_fd: workers start when it
// reaches end-of-file (the coordinator closes it for every node at once). Returns the exit
// status.
[[nodiscard]] int run_node(const NodeOptions& options, int ready_fd, int go_fd);

}  // namespace rr::farm
