#pragma once
// One active job in the daemon, on the node that owns it. Its methods run on the loop thread
// and own every job-database update for the job. The node's own work for it (the before
// hooks, prepare + analysis, moving the source, the after hooks) runs as tasks on the shared
// scheduler, which post their results back to the loop; its chunks, audio pass and join are
// tasks in the queue (service/cluster_work.h), run by any node, a cluster of one included,
// and this class follows them there (on_queue_update). What happens next is decided by the
// job's JobLifecycle (service/job_lifecycle.h); this class carries its decisions out
// (JobEffects) and feeds the results back to it.
//
// Crash safety lives in the queue: a chunk is done once its completion was accepted there, a
// restarted owner attaches to its queue job and keeps every finished chunk, and the joiner
// publishes before this node moves the source.

#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>

#include "pipeline/progress.h"
#include "service/cluster_work.h"
#include "service/context.h"
#include "service/hooks.h"
#include "service/job_lifecycle.h"
#include "worker/client.h"

namespace rr::service {

class JobRunner : public std::enable_shared_from_this<JobRunner>, private JobEffects {
  public:
    // `finished(id)` runs on the loop once the job reached a final state and was cleaned up.
    JobRunner(Context& ctx, store::JobRow row, std::function<void(int64_t)> finished);

    void start();
    // User cancel: stops its tasks, keeps the source where it is, marks the job cancelled.
    void cancel(const std::string& reason);
    // Daemon stopping: interrupted tasks leave their chunks pending for the next start.
    void stop_for_shutdown();

    [[nodiscard]] int64_t id() const { return row_.id; }
    // Live state for status and progress events.
    [[nodiscard]] control::JobProgress snapshot() const;
    // Writes progress to the store and emits a progress event.
    void report_progress();

  private:
    struct Prepared {
        worker::PlanSummary plan;
        // The queue's job, and whether another node owns it (this node's job
        // then ends as a duplicate) or this node had already planned it before a restart.
        int64_t queue_job = 0;
        std::string elsewhere;
        bool attached = false;
    };

    // JobEffects: what the lifecycle asks for.
    void set_state(store::JobState state, const std::optional<std::string>& error) override;
    void submit_prepare() override;
    void follow_queue_job() override;
    void end_queue_job(store::JobState state, const std::string& error) override;
    void cancel_tasks() override;
    void dispose(const JobEnding& ending) override;
    void run_after_hooks(store::JobState state) override;
    void finish() override;
    void warn(const std::string& message) override;

    // Task completions (loop thread): recorded here, then handed to the lifecycle.
    void on_prepared(Result<Prepared> r);
    // What the queue said when asked to run a planned job: another node took the preparation
    // over while this one was lost (elsewhere), or a job of the same content counts (same), or
    // neither, and the tasks are queued.
    struct QueueStep {
        std::optional<std::string> elsewhere;
        std::optional<SameContent> same;
    };
    // Once on_prepared found no duplicate in the job database: the content recorded in the
    // queue, which may find one on any node (record_content), then the tasks queued
    // (start_tasks). On a scheduler thread; the result comes back here.
    void submit_queue_step();
    void on_queue_step(Result<QueueStep> step);
    // The joiner (any node) published the output; its sidecar came through the queue.
    void on_published(nlohmann::json sidecar);
    void on_disposed(Result<std::string> new_input);
    void on_disposed_elsewhere();
    // A failed preparation, as a job event when it may be retried.
    bool note_whole_file_failure(const std::string& what, const Error& error);
    // Cluster mode: the owner follows its job in the queue until a joiner published it.
    void on_queue_update(Result<ClusterJobUpdate> u);
    // The earlier job with this content and profile that makes this one a duplicate: one still
    // going, or one whose output still exists.
    [[nodiscard]] std::optional<int64_t> earlier_result(const std::string& checksum);

    [[nodiscard]] const Watch* source_watch() const;  // the job's watch, if it came from one
    // {input} {output} {sidecar} {job_id} {state} for hooks.
    [[nodiscard]] std::map<std::string, std::string> hook_values(std::string_view state) const;
    void record_hooks(const std::vector<HookRun>& runs);  // into the log and the job's events
    void log_store(const Status& st) const;

    Context& ctx_;
    store::JobRow row_;
    std::function<void(int64_t)> finished_;
    JobLifecycle life_;
    pipeline::JobSettings settings_;
    std::filesystem::path work_dir_;
    std::filesystem::path output_;
    // What every worker of this job is given; the plan itself lives in the work folder.
    std::shared_ptr<const worker::JobSpec> spec_;
    worker::PlanSummary plan_;
    std::shared_ptr<pipeline::Progress> progress_ = std::make_shared<pipeline::Progress>();
    std::optional<control::JobTotals> done_totals_;  // frames and bytes, for the done event
    std::optional<ClusterJobFiles> files_;           // the job's files, relative to storage.root
    int64_t queue_job_ = 0;
    std::set<int> tasks_seen_;                  // queue tasks already counted as done here
    std::map<int, int> attempts_seen_;          // by task idx: the last failed attempt recorded
    int64_t frames_done_ = 0;                   // frames of the chunks in tasks_seen_
    std::optional<std::set<int>> audio_tasks_;  // the queue's audio tasks, once known
};

}  // namespace rr::service
