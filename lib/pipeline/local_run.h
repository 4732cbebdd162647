#pragma once
// Runs one job start to finish in this process on its own worker pool: the engine behind
// `renderrushd process`. Nothing is left at the output path unless the job succeeds.

#include <filesystem>
#include <nlohmann/json.hpp>
#include <stop_token>
#include <string>

#include "core/logging.h"
#include "core/result.h"
#include "pipeline/job_settings.h"
#include "pipeline/progress.h"

namespace rr::worker {
class Zygote;
}

namespace rr::pipeline {

struct LocalJob {
    std::filesystem::path input;
    std::filesystem::path output;
    std::string profile_name;  // for the record; "" when stages came from --stages
    JobSettings settings;
    worker::Zygote* zygote = nullptr;  // forks the workers; nullptr: each is posix_spawned
};

struct LocalResult {
    nlohmann::json sidecar;
    std::filesystem::path sidecar_path;
};

[[nodiscard]] Result<LocalResult> run_local(const LocalJob& job, const LoggerPtr& logger,
                                            Progress& progress, std::stop_token stop);

}  // namespace rr::pipeline
