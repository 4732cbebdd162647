#pragma once
// `renderrushd process --dry-run`: everything the run would decide, nothing written.

#include <nlohmann/json.hpp>
#include <stop_token>

#include "core/logging.h"
#include "core/result.h"
#include "pipeline/local_run.h"

namespace rr::app {

// Probes and plans `job` as a run would (stages built, chunks planned, encoder opened and
// closed again), in a confined worker that may write nothing, and describes the result:
// input, resolved settings, encoder, audio, chunks.
[[nodiscard]] Result<nlohmann::json> plan_dry_run(const pipeline::LocalJob& job,
                                                  const LoggerPtr& logger, std::stop_token stop);

// The plan for people: a few lines, one per chunk at the end.
[[nodiscard]] std::string format_plan(const nlohmann::json& plan);

}  // namespace rr::app
