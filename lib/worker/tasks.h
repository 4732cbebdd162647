#pragma once
// The task kinds a worker process runs, each given its request and answering with JSON.
// Only ever called inside a confined worker (lib/app/worker_command).

#include <functional>
#include <nlohmann/json.hpp>
#include <stop_token>

#include "core/logging.h"
#include "core/result.h"

namespace rr::worker {

// Sends {"progress": frames} to the parent (frames finished since the last call).
using ReportFrames = std::function<void(int64_t)>;

[[nodiscard]] Result<nlohmann::json> run_task(const nlohmann::json& request,
                                              const LoggerPtr& logger, const ReportFrames& report,
                                              std::stop_token stop);

}  // namespace rr::worker
