#pragma once
// What one farm run is: how many node processes, workers, tasks, and the queue's timing. The
// coordinator passes the node-side part on each node's command line.

#include <string>

namespace rr::farm {

struct NodeOptions {
    std::string conninfo;
    std::string node_id;
    std::string log_path;  // this node's event log (event_log.h)
    int workers = 2;
    int task_ms = 200;  // a task sleeps this long instead of encoding
    int poll_ms = 100;  // an idle worker claims again after this long
    double lease_seconds = 2;
    double heartbeat_seconds = 0.5;  // renew + node heartbeat + reap + mark lost
    // true: each worker and the heartbeat thread own a connection (3 per node with 2 workers);
    // false: one connection per node, shared under a mutex.
    bool connection_per_thread = true;
};

struct FarmOptions {
    NodeOptions node;  // conninfo, node_id and log_path are filled in per node
    int nodes = 50;
    int tasks = 10000;
    int jobs = 100;        // tasks are spread evenly over this many jobs
    int kill = 0;          // node processes killed with SIGKILL mid-run
    double kill_at = 0.4;  // ... once this share of the tasks is done
    // Node processes stopped (SIGSTOP) at the same moment and continued after freeze_seconds,
    // like a node cut off from the database: by then their leases were reaped and claimed by
    // others, and their late completions must be refused.
    int freeze = 0;
    double freeze_seconds = 6;
    std::string conninfo;  // empty: start a throwaway server
    std::string self;      // this program, spawned again as each node
    double timeout_seconds = 600;
};

}  // namespace rr::farm
