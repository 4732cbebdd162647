#include "service/job_lifecycle.h"

#include <fmt/format.h>

namespace rr::service {

using store::JobState;

std::string_view to_string(JobLifecycle::Step step) {
    switch (step) {
        case JobLifecycle::Step::created:
            return "created";
        case JobLifecycle::Step::probing:
            return "probing";
        case JobLifecycle::Step::running:
            return "running";
        case JobLifecycle::Step::assembling:
            return "assembling";
        case JobLifecycle::Step::disposing:
            return "disposing";
        case JobLifecycle::Step::hooks:
            return "hooks";
        case JobLifecycle::Step::finished:
            return "finished";
    }
    return "unknown";
}

JobLifecycle::JobLifecycle(JobEffects& effects, int max_attempts, Clock clock)
    : fx_(effects),
      max_attempts_(max_attempts < 1 ? 1 : max_attempts),
      clock_(std::move(clock)),
      started_(clock_()) {}

double JobLifecycle::elapsed() const {
    return std::chrono::duration<double>(clock_() - started_).count();
}

void JobLifecycle::enter(Step step, JobState state) {
    step_ = step;
    state_ = state;
    fx_.set_state(state, std::nullopt);
}

void JobLifecycle::start() {
    if (step_ != Step::created) return;
    started_ = clock_();
    enter(Step::probing, JobState::probing);
    ++prepare_runs_;
    fx_.submit_prepare();
}

void JobLifecycle::resume_published() {
    if (step_ != Step::created) return;
    started_ = clock_();
    enter(Step::probing, JobState::probing);
    end({.state = JobState::done, .message = {}});
}

void JobLifecycle::planned() {
    if (step_ != Step::probing) return;
    enter(Step::running, JobState::running);
    fx_.follow_queue_job();
}

void JobLifecycle::attached() {
    planned();  // the same from here on: its tasks are in the queue either way
}

void JobLifecycle::duplicate(const std::string& message) {
    if (step_ != Step::probing) return;
    end({.state = JobState::duplicate, .message = message});
}

void JobLifecycle::elsewhere(const std::string& message) {
    if (step_ != Step::probing) return;
    end({.state = JobState::duplicate, .message = message, .here = false});
}

void JobLifecycle::prepare_failed(const Error& error, bool retryable) {
    if (step_ != Step::probing) return;
    // Stopped by the daemon's shutdown: the next start prepares again.
    if (error.code == Errc::cancelled && shutting_down_) return;
    // A refusal (an unreadable file, a limit) is the same every time; a worker that died or
    // was killed may not be.
    if (retryable && prepare_runs_ < max_attempts_) {
        fx_.warn(fmt::format("preparing failed (attempt {} of {}): {}; retrying", prepare_runs_,
                             max_attempts_, error.message));
        ++prepare_runs_;
        fx_.submit_prepare();
        return;
    }
    fail(error);
}

void JobLifecycle::joined() {
    if (step_ != Step::assembling) return;
    end({.state = JobState::done, .message = {}});
}

void JobLifecycle::queue_joining() {
    if (step_ == Step::running) enter(Step::assembling, JobState::assembling);
}

void JobLifecycle::queue_failed(const Error& error) {
    if (!following_queue()) return;
    fail(error);
}

void JobLifecycle::fail(const Error& error) {
    if (ended()) return;
    fx_.end_queue_job(JobState::failed, error.message);
    fx_.cancel_tasks();
    end({.state = JobState::failed,
         .message = error.message,
         .no_space = error.code == Errc::no_space});
}

void JobLifecycle::cancel(const std::string& reason) {
    if (ended()) return;
    fx_.end_queue_job(JobState::cancelled, reason);
    fx_.cancel_tasks();
    end({.state = JobState::cancelled, .message = reason});
}

void JobLifecycle::shutdown() {
    shutting_down_ = true;
}

void JobLifecycle::end(JobEnding ending) {
    step_ = Step::disposing;
    ending_ = std::move(ending);
    fx_.dispose(*ending_);
}

void JobLifecycle::disposed(const std::optional<std::string>& warning) {
    if (step_ != Step::disposing || !ending_) return;
    JobState final_state = ending_->state;
    std::optional<std::string> error;
    if (final_state == JobState::done) {
        // The output is there; the operator still has to clean up after the source.
        if (warning) {
            final_state = JobState::done_with_warnings;
            error = "source disposition: " + *warning;
        }
    } else {
        error = ending_->message;
    }
    state_ = final_state;
    fx_.set_state(final_state, error);
    if (!ending_->here) {
        // Its hooks run on the node that processes it.
        step_ = Step::finished;
        fx_.finish();
        return;
    }
    step_ = Step::hooks;
    fx_.run_after_hooks(final_state);
}

void JobLifecycle::disposed_elsewhere() {
    if (step_ != Step::disposing || !ending_) return;
    ending_->here = false;
    disposed(std::nullopt);
}

void JobLifecycle::hooks_done() {
    if (step_ != Step::hooks) return;
    step_ = Step::finished;
    fx_.finish();
}

}  // namespace rr::service
