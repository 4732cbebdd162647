#pragma once
// The farm's coordinator: fills the queue, starts the node processes together, kills or freezes
// some of them mid-run when asked, and waits until no task is available or leased.

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "core/result.h"
#include "cpu_usage.h"
#include "farm_options.h"
#include "store/pg_queue.h"

namespace rr::farm {

struct FarmRun {
    std::vector<std::string> node_ids, log_paths;
    std::set<std::string> killed, frozen;
    std::vector<int64_t> job_ids;
    // now_us(); t_kill: when nodes were killed or frozen (0: none), t_thaw: continued.
    int64_t t_go = 0, t_end = 0, t_kill = 0, t_thaw = 0;
    int64_t done_at_kill = 0;
    MachineCpu cpu;             // over go..end
    double postgres_cpu_s = 0;  // over go..end
    double nodes_cpu_s = 0;     // the node processes, start to exit
    double load_average = 0;    // 1 minute, at the end: other programs on the machine show here
    int node_failures = 0;      // node processes that exited with a status other than 0
    bool drained = false;       // false: the timeout passed with tasks available or leased
};

// `dir` holds the nodes' event logs; `socket_dir` finds the server for the CPU figures.
[[nodiscard]] Result<FarmRun> run_farm(const FarmOptions& options, store::PgQueue& queue,
                                       const std::string& dir, const std::string& socket_dir);

}  // namespace rr::farm
