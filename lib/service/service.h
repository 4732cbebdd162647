#pragma once
// The running daemon: one loop thread (watches, timers, signals, the control socket, the job
// store, every job's state machine) and the worker pool. Built once by main, run until
// SIGTERM/SIGINT.

#include <filesystem>
#include <map>
#include <memory>

#include "control/registry.h"
#include "control/server.h"
#include "core/config.h"
#include "core/logging.h"
#include "pipeline/scheduler.h"
#include "service/cluster_node.h"
#include "service/cluster_work.h"
#include "service/context.h"
#include "service/intake.h"
#include "service/job_runner.h"
#include "service/layout.h"
#include "service/metrics.h"
#include "service/notifier.h"
#include "service/throughput.h"
#include "store/job_store.h"
#include "uv/loop.h"
#include "watch/fd.h"
#include "web/server.h"
#include "worker/zygote.h"

namespace rr::service {

// Profiles whose stages cannot be built here (a missing model, say), each with the reason.
// The daemon runs without them: their jobs fail with the reason and `status` lists them.
[[nodiscard]] std::map<std::string, std::string> disabled_profiles(const Config& config);

class Service {
  public:
    // `daemon_fault`: a test build's RENDERRUSH_DAEMON_FAULT (Context::daemon_fault).
    [[nodiscard]] static Result<std::unique_ptr<Service>> create(Config config,
                                                                 std::filesystem::path config_path,
                                                                 LoggerPtr logger,
                                                                 std::string daemon_fault = {});
    ~Service();
    Service(const Service&) = delete;
    Service& operator=(const Service&) = delete;

    // Runs until asked to stop; returns the process exit status.
    int run();

    // Operations for the control commands (loop thread).
    [[nodiscard]] Status reload();
    void begin_shutdown();
    void set_paused(bool paused);
    [[nodiscard]] bool paused() const { return processing_paused_; }
    [[nodiscard]] const nlohmann::json& hardware() const { return hardware_; }
    [[nodiscard]] double uptime_seconds() const;
    [[nodiscard]] std::string metrics_text();
    // Frames per minute over the last hour (`status.throughput`).
    [[nodiscard]] nlohmann::json throughput() { return throughput_.to_json(SteadyClock::now()); }
    // Starts queued jobs while there is room.
    void schedule_jobs();

  private:
    Service() = default;
    void on_job_finished(int64_t id);
    void on_event(const control::Event& event);
    void check_disk();
    void apply_disabled_profiles();
    void finish_shutdown();
    void update_status();
    [[nodiscard]] std::string status_text();  // for sd_notify STATUS=
    void write_metrics_file();
    [[nodiscard]] std::map<std::string, int64_t> disk_free();
    [[nodiscard]] Status start_web();

    std::unique_ptr<worker::Zygote> zygote_;  // outlives every job (declared first)
    std::unique_ptr<uv::Loop> loop_;
    std::unique_ptr<store::JobStore> store_;
    std::unique_ptr<pipeline::Scheduler> scheduler_;
    watch::Fd queue_lock_;  // a cluster of one: held while this process uses the queue file
    std::unique_ptr<ClusterNode> cluster_;       // a cluster of one without `cluster:`
    std::unique_ptr<ClusterWork> cluster_work_;  // claims and runs chunks
    void stop_cluster_work();
    // The node as operators see it: a cluster of one (no `cluster:` section) shows no cluster.
    [[nodiscard]] ClusterNode* shown_cluster() const {
        return cluster_of_one(ctx_.config) ? nullptr : cluster_.get();
    }
    // A queue job whose owner was lost while preparing it: submitted here to take it over.
    void adopt_orphan(const ClusterWork::Orphan& o);
    std::unique_ptr<uv::Poster> poster_;
    Context ctx_;
    std::unique_ptr<Intake> intake_;
    control::Registry registry_;
    std::unique_ptr<control::Server> server_;
    std::unique_ptr<web::Server> web_;  // only with web.enabled
    Metrics metrics_;
    Throughput throughput_;
    Notifier notifier_;
    nlohmann::json hardware_;
    void log_hardware() const;
    std::map<int64_t, std::shared_ptr<JobRunner>> active_;
    uv::Signal sigterm_, sigint_, sighup_;
    uv::Timer progress_timer_, disk_timer_, shutdown_timer_, drain_timer_, watchdog_timer_,
        metrics_timer_;
    SteadyClock::time_point started_ = SteadyClock::now();
    bool stopping_ = false;
    bool processing_paused_ = false;
    // Whether the node thread's silence (a database that stopped answering) was logged: the
    // thread cannot say so itself while a call blocks it.
    bool silence_logged_ = false;
};

}  // namespace rr::service
