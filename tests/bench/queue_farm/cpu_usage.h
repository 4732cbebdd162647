#pragma once
// Where the CPU went during a run, read from /proc: the whole machine (other programs
// included) and the PostgreSQL server that serves the farm.

#include <string>

namespace rr::farm {

struct MachineCpu {
    double busy_s = 0, total_s = 0;  // summed over all cores
};

[[nodiscard]] MachineCpu machine_cpu();

// CPU seconds used so far by the postmaster started with `-k socket_dir` and its live
// children (the backends); 0 when no such server is found.
[[nodiscard]] double postgres_cpu_seconds(const std::string& socket_dir);

}  // namespace rr::farm
