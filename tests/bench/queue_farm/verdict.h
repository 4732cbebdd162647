#pragma once
// What a farm run proves and measures, from two sources that do not share a fault: the
// database (job counters, the nodes' accepted-completion counters, queue depth) and the
// nodes' own event logs (every claim, accepted or refused completion, reap, with times).

#include <nlohmann/json.hpp>

#include "coordinator.h"
#include "farm_options.h"
#include "store/pg_queue.h"

namespace rr::farm {

// The report, as JSON; "ok" is true when every task was completed exactly once.
[[nodiscard]] Result<nlohmann::json> verdict(const FarmOptions& options, const FarmRun& run,
                                             store::PgQueue& queue);

// Nearest-rank percentile (p in 0..100) of unsorted samples; 0 for none.
[[nodiscard]] double percentile(std::vector<int64_t> samples, double p);

}  // namespace rr::farm
