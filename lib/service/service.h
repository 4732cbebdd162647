#pragma once
// The running daemon: one loop thread (watches, timers, signals, the job store, every job's
// state machine) and the worker pool. Built once by main and run until SIGTERM/SIGINT.

#include <filesystem>
#include <map>
#include <memory>

#include "core/config.h"
#include "core/logging.h"
#include "pipeline/scheduler.h"
#include "service/context.h"
#include "service/intake.h"
#include "service/job_runner.h"
#include "store/job_store.h"
#include "uv/loop.h"

namespace rr::service {

// Everything a configuration must satisfy before the daemon runs on it (stages included).
[[nodiscard]] Status validate_config(const Config& config);

class Service {
  public:
    [[nodiscard]] static Result<std::unique_ptr<Service>> create(Config config,
                                                                 std::filesystem::path config_path,
                                                                 LoggerPtr logger);
    ~Service();
    Service(const Service&) = delete;
    Service& operator=(const Service&) = delete;

    // Runs until asked to stop; returns the process exit status.
    int run();

    // Control (loop thread).
    void reload();
    void begin_shutdown();
    void set_paused(bool paused);
    [[nodiscard]] Context& context() { return ctx_; }
    [[nodiscard]] const std::map<int64_t, std::shared_ptr<JobRunner>>& active() const {
        return active_;
    }

  private:
    Service() = default;
    void schedule_jobs();
    void on_job_finished(int64_t id);
    void check_disk();
    void finish_shutdown();

    std::unique_ptr<uv::Loop> loop_;
    std::unique_ptr<store::JobStore> store_;
    std::unique_ptr<pipeline::Scheduler> scheduler_;
    std::unique_ptr<uv::Poster> poster_;
    Context ctx_;
    std::unique_ptr<Intake> intake_;
    std::map<int64_t, std::shared_ptr<JobRunner>> active_;
    uv::Signal sigterm_, sigint_, sighup_;
    uv::Timer progress_timer_, disk_timer_, shutdown_timer_, drain_timer_;
    bool stopping_ = false;
    bool processing_paused_ = false;
};

}  // namespace rr::service
