#pragma once
#include <filesystem>

#include "core/config.h"

namespace rr::pipeline {

// Everything a job needs to know besides its input and output.
struct JobSettings {
    Profile profile;
    int workers = 0;  // 0: one per core
    double chunk_seconds = 10.0;
    Limits limits;
    std::filesystem::path models_dir;
    std::filesystem::path work_dir;  // chunk and audio intermediates live here
};

// Cores available to this process (cgroup/affinity aware).
[[nodiscard]] int available_cores();
[[nodiscard]] int resolve_workers(int requested);

}  // namespace rr::pipeline
