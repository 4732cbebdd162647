#pragma once
// The life of one job as a single state machine: prepare → tasks (chunks + audio, run here or
// by the cluster's nodes) → join/publish → dispose of the source → after hooks → finished.
// It decides; it does nothing itself. Everything it wants done goes through JobEffects, which
// the daemon's JobRunner implements with the scheduler, the store and the cluster queue, and a
// unit test implements with a fake scheduler. Time comes from an injected clock.
//
// Its states are the store's JobState while the job is active (probing, running, assembling),
// then two steps that end every job (disposing: the outcome is decided and the source is being
// moved; hooks: the after hooks run) and finished. How a job ended is the final JobState it is
// given, so there is one vocabulary of outcome from the machine to the job row.
//
// Rules it keeps (unit-tested in tests/unit/service/test_job_lifecycle.cpp):
// - a result arriving in a state that no longer expects it (a chunk finishing after a cancel,
//   a second join result) changes nothing;
// - every job is disposed of exactly once and finished exactly once;
// - a failed task runs again until it has run max_attempts times, except when the disk is full;
//   a whole-file task (prepare, join) runs again only when its worker died;
// - an interrupted task (daemon stopping) is left for the next start, never counted as failed.

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <set>
#include <string>

#include "core/clock.h"
#include "core/result.h"
#include "store/job_store.h"
#include "store/task_ref.h"

namespace rr::service {

// How the job ended: its final state and what to say about it.
struct JobEnding {
    store::JobState state = store::JobState::failed;  // done, failed, cancelled or duplicate
    std::string message;
    bool no_space = false;  // the disk is full: the source stays where it is
    // False for a job another cluster node processes: its disposition and hooks are that
    // node's.
    bool here = true;
};

// What the machine asks for. Each call returns at once; results come back as events.
class JobEffects {
  public:
    virtual ~JobEffects() = default;
    virtual void set_state(store::JobState state, const std::optional<std::string>& error) = 0;
    virtual void submit_prepare() = 0;
    virtual void submit_task(store::TaskRef task) = 0;
    virtual void submit_join() = 0;
    // Cluster mode: follow the job in the queue (updates arrive as cluster_* events), and end
    // it there when this node gives up on it.
    virtual void follow_cluster_job() = 0;
    virtual void end_cluster_job(store::JobState state, const std::string& error) = 0;
    // Stops the job's running tasks (their results then arrive and are ignored).
    virtual void cancel_tasks() = 0;
    virtual void dispose(const JobEnding& ending) = 0;
    virtual void run_after_hooks(store::JobState state) = 0;
    virtual void finish() = 0;
    virtual void warn(const std::string& message) = 0;
};

class JobLifecycle {
  public:
    enum class Step { created, probing, running, assembling, disposing, hooks, finished };
    using Clock = std::function<SteadyClock::time_point()>;

    JobLifecycle(JobEffects& effects, int max_attempts, Clock clock = SteadyClock::now);

    // --- events ---
    void start();
    // An earlier run published the output and stopped before the source's disposition.
    void resume_published();
    // The plan is made: `pending` are the tasks still to run here (the rest were kept from an
    // earlier run). With `cluster`, the queue's nodes run the tasks and this node follows.
    void planned(std::set<store::TaskRef> pending, bool cluster);
    // Cluster mode: planned before a restart; its tasks are already queued.
    void attached();
    // Not to be processed here: the same content was published before (duplicate), or another
    // node owns this file's cluster job (elsewhere).
    void duplicate(const std::string& message);
    void elsewhere(const std::string& message);
    // `retryable`: the worker died (another run may succeed); otherwise the input was refused.
    void prepare_failed(const Error& error, bool retryable);
    void task_done(store::TaskRef task);
    void task_failed(store::TaskRef task, const Error& error);
    void task_interrupted(store::TaskRef task);
    // The join published the output (here or, in cluster mode, on the joining node).
    void joined();
    void join_failed(const Error& error, bool retryable);
    // Cluster mode: the queue moved the job to joining / failed or cancelled it.
    void cluster_joining();
    void cluster_ended(const Error& error);
    void fail(const Error& error);
    void cancel(const std::string& reason);
    // The daemon stops: running tasks are interrupted and left for the next start.
    void shutdown();
    // The source was disposed of; with `warning`, publishing stands but the disposition failed.
    void disposed(const std::optional<std::string>& warning);
    // Cluster mode: another node claimed the disposition (it adopted the job while this node
    // was lost); the job ends as it would have, without hooks here.
    void disposed_elsewhere();
    void hooks_done();

    // --- queries ---
    [[nodiscard]] Step step() const { return step_; }
    // The store's state for this job now (final ones once disposed).
    [[nodiscard]] store::JobState state() const { return state_; }
    // Whether a task's result is still wanted (recorded and counted).
    [[nodiscard]] bool wants_task_results() const { return step_ == Step::running; }
    // Whether a join result (or a cluster update) is still wanted.
    [[nodiscard]] bool wants_join_result() const { return step_ == Step::assembling; }
    [[nodiscard]] bool following_cluster() const {
        return cluster_ && (step_ == Step::running || step_ == Step::assembling);
    }
    [[nodiscard]] bool ended() const { return step_ >= Step::disposing; }
    [[nodiscard]] bool shutting_down() const { return shutting_down_; }
    [[nodiscard]] const std::set<store::TaskRef>& pending() const { return pending_; }
    [[nodiscard]] int attempts(store::TaskRef task) const;
    // Every failed attempt so far ({task, attempt, error, at}), for the sidecar.
    [[nodiscard]] const nlohmann::json& retried() const { return retried_; }
    // Seconds since start(), by the machine's clock.
    [[nodiscard]] double elapsed() const;

  private:
    void enter(Step step, store::JobState state);
    void run_task(store::TaskRef task);
    void maybe_join();
    void end(JobEnding ending);
    // Records a failed attempt; true when another one is allowed.
    bool record_failure(const std::string& what, int attempt, const Error& error);
    bool retry_whole_file(const std::string& what, const Error& error, bool retryable);

    JobEffects& fx_;
    int max_attempts_;
    Clock clock_;
    SteadyClock::time_point started_;
    Step step_ = Step::created;
    store::JobState state_ = store::JobState::queued;
    bool cluster_ = false;
    bool shutting_down_ = false;
    std::optional<JobEnding> ending_;
    std::set<store::TaskRef> pending_;
    std::map<store::TaskRef, int> attempts_;          // runs started per task, this process
    std::map<std::string, int> whole_file_attempts_;  // failed prepare / join runs
    nlohmann::json retried_ = nlohmann::json::array();
};

[[nodiscard]] std::string_view to_string(JobLifecycle::Step step);
inline std::ostream& operator<<(std::ostream& os, JobLifecycle::Step step) {
    return os << to_string(step);
}

}  // namespace rr::service
