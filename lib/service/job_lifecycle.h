#pragma once
// The life of one job on the node that owns it, as a single state machine: prepare → the
// queue's tasks (chunks + audio, run by any node, this one included) → join/publish (by the
// node that finished the last chunk) → dispose of the source → after hooks → finished.
// It decides; it does nothing itself. Everything it wants done goes through JobEffects, which
// the daemon's JobRunner implements with the scheduler, the store and the queue, and a unit
// test implements with a fake. Time comes from an injected clock.
//
// Its states are the store's JobState while the job is active (probing, running, assembling),
// then two steps that end every job (disposing: the outcome is decided and the source is being
// moved; hooks: the after hooks run) and finished. How a job ended is the final JobState it is
// given, so there is one vocabulary of outcome from the machine to the job row.
//
// Rules it keeps (unit-tested in tests/unit/service/test_job_lifecycle.cpp):
// - an event arriving in a state that no longer expects it (a queue update after a cancel, a
//   second publish) changes nothing;
// - every job is disposed of exactly once and finished exactly once;
// - preparing runs again only when its worker died, at most max_attempts times in all (the
//   queue keeps the attempts of chunks, audio and join);
// - a daemon stopping leaves the job for the next start: never failed, never disposed of.

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>

#include "core/clock.h"
#include "core/result.h"
#include "store/job_store.h"

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
    // Follow the job in the queue (updates arrive as queue_* events, joined() and cancel()),
    // and end it there when this node gives up on it.
    virtual void follow_queue_job() = 0;
    virtual void end_queue_job(store::JobState state, const std::string& error) = 0;
    // Stops the job's tasks on this node's scheduler (their results then arrive and are
    // ignored).
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
    // The plan is made and its tasks are queued; this node follows them in the queue.
    void planned();
    // Planned before a restart; its tasks are already queued.
    void attached();
    // Not to be processed here: the same content was published before (duplicate), or another
    // node owns this file's cluster job (elsewhere).
    void duplicate(const std::string& message);
    void elsewhere(const std::string& message);
    // `retryable`: the worker died (another run may succeed); otherwise the input was refused.
    void prepare_failed(const Error& error, bool retryable);
    // The joiner published the output.
    void joined();
    // The queue moved the job to joining / failed it (a job the queue cancelled is cancel()ed).
    void queue_joining();
    void queue_failed(const Error& error);
    void fail(const Error& error);
    void cancel(const std::string& reason);
    // The daemon stops: the job is left for the next start (the queue keeps its tasks).
    void shutdown();
    // The source was disposed of; with `warning`, publishing stands but the disposition failed.
    void disposed(const std::optional<std::string>& warning);
    // Another node claimed the disposition (it adopted the job while this node
    // was lost); the job ends as it would have, without hooks here.
    void disposed_elsewhere();
    void hooks_done();

    // --- queries ---
    [[nodiscard]] Step step() const { return step_; }
    // The store's state for this job now (final ones once disposed).
    [[nodiscard]] store::JobState state() const { return state_; }
    // Whether the joiner's result is still wanted.
    [[nodiscard]] bool wants_join_result() const { return step_ == Step::assembling; }
    // Whether queue updates are still wanted.
    [[nodiscard]] bool following_queue() const {
        return step_ == Step::running || step_ == Step::assembling;
    }
    [[nodiscard]] bool ended() const { return step_ >= Step::disposing; }
    [[nodiscard]] bool shutting_down() const { return shutting_down_; }
    // Seconds since start(), by the machine's clock.
    [[nodiscard]] double elapsed() const;

  private:
    void enter(Step step, store::JobState state);
    void end(JobEnding ending);

    JobEffects& fx_;
    int max_attempts_;
    Clock clock_;
    SteadyClock::time_point started_;
    Step step_ = Step::created;
    store::JobState state_ = store::JobState::queued;
    bool shutting_down_ = false;
    std::optional<JobEnding> ending_;
    int prepare_runs_ = 0;  // preparations started, this process
};

[[nodiscard]] std::string_view to_string(JobLifecycle::Step step);
inline std::ostream& operator<<(std::ostream& os, JobLifecycle::Step step) {
    return os << to_string(step);
}

}  // namespace rr::service
