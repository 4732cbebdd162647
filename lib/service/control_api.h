#pragma once
// What the control commands use of the running daemon, and nothing more: the job store, the
// active jobs, the intake, the live configuration and the event stream, plus the few
// daemon-wide switches (pause, reload, metrics) that only the Service itself can flip.

#include <filesystem>
#include <functional>
#include <map>
#include <memory>

#include "control/events.h"
#include "control/registry.h"
#include "core/config.h"
#include "pipeline/scheduler.h"
#include "store/job_store.h"

namespace rr::service {

class ClusterNode;
class Intake;
class JobRunner;
class Service;

struct ControlApi {
    const Config& config;  // the live one: a reload replaces its contents in place
    const std::filesystem::path& config_path;
    // Profiles of `config` that cannot run here, with the reason (recomputed on reload).
    const std::map<std::string, std::string>& disabled_profiles;
    store::JobStore& store;
    const std::map<int64_t, std::shared_ptr<JobRunner>>& runners;  // active jobs by id
    Intake& intake;
    const pipeline::Scheduler& scheduler;  // worker counts for `status`
    const std::function<void(const control::Event&)>& emit;
    Service& daemon;  // paused/set_paused, reload, schedule_jobs, uptime, hardware, metrics
    ClusterNode* cluster = nullptr;  // cluster mode only
};

// Adds every control command (status, jobs, submit, ...) to `registry`.
[[nodiscard]] Status register_commands(control::Registry& registry, ControlApi api);

}  // namespace rr::service
