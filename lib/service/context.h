#pragma once
// What every part of the running daemon shares, passed explicitly (no singletons).

#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "control/events.h"
#include "core/config.h"
#include "core/logging.h"
#include "pipeline/scheduler.h"
#include "store/job_store.h"
#include "uv/loop.h"

namespace rr::worker {
class Zygote;
}

namespace rr::service {

class ClusterWork;

struct Context {
    Config config;  // replaced as a whole on reload
    // Profiles of `config` that cannot run here, with the reason (recomputed on reload).
    std::map<std::string, std::string> disabled_profiles;
    std::filesystem::path config_path;
    uv::Loop* loop = nullptr;
    store::JobStore* store = nullptr;
    pipeline::Scheduler* scheduler = nullptr;
    uv::Poster* poster = nullptr;
    LoggerPtr logger;
    worker::Zygote* zygote = nullptr;  // forks workers; nullptr: each is posix_spawned
    ClusterWork* cluster = nullptr;    // the queue every job goes through (a cluster of one too)
    // Test-only: makes the daemon stop at one point so a test can kill it there. Set from
    // RENDERRUSH_DAEMON_FAULT by the test build (renderrushd-faults) alone; always empty in the
    // shipped binary. `hang:dispose`: a job's disposition hangs once claimed in the queue,
    // before the source is moved and the ending recorded; `hang:disposed`: once the source is
    // moved, before the disposition is recorded done in the queue.
    std::string daemon_fault;
    // Every job and chunk state change and progress snapshot (control subscribers, metrics).
    std::function<void(const control::Event&)> emit = [](const control::Event&) {};
};

}  // namespace rr::service
