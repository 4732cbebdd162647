#pragma once
#include <filesystem>

#include "core/config.h"

namespace rr::pipeline {

// Everything a job needs to know besides its input and output.
struct JobSettings {
    Profile profile;
    int workers = 0;  // 0: one per core
    // The workers the chunks are cut for: in cluster mode those of every active node, which
    // all take this job's chunks; 0: this process's `workers`.
    int plan_workers = 0;
    double chunk_seconds = 10.0;
    Limits limits;
    std::filesystem::path models_dir;
    std::filesystem::path work_dir;  // chunk and audio intermediates live here
};

// Cores available to this process (cgroup/affinity aware).
[[nodiscard]] int available_cores();
[[nodiscard]] int resolve_workers(int requested);

// OpenCV has one thread pool per process, shared by every job and chunk running in it, so its
// size is set once, at start-up, from the process's worker budget: each worker's share of the
// cores (at least 1). Chunks, not OpenCV, supply the parallelism.
[[nodiscard]] int opencv_threads(int requested_workers);
void configure_opencv_threads(int requested_workers);

}  // namespace rr::pipeline
