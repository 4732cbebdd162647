#include "pipeline/scheduler.h"

#include <memory>
#include <optional>

namespace rr::pipeline {

Scheduler::Scheduler(int workers) {
    for (int i = 0; i < workers; ++i) threads_.emplace_back([this, i] { work(i); });
}

Scheduler::~Scheduler() {
    shutdown(std::chrono::milliseconds(0));
}

void Scheduler::add_job(int64_t job, int priority) {
    std::lock_guard lock(mutex_);
    jobs_[job].priority = priority;
}

void Scheduler::remove_job(int64_t job) {
    std::lock_guard lock(mutex_);
    jobs_.erase(job);
}

void Scheduler::submit(int64_t job, Task task) {
    {
        std::lock_guard lock(mutex_);
        jobs_[job].tasks.push_back(std::move(task));
    }
    cv_.notify_one();
}

void Scheduler::cancel(int64_t job) {
    std::lock_guard lock(mutex_);
    auto it = jobs_.find(job);
    if (it == jobs_.end()) return;
    it->second.tasks.clear();
    it->second.stop.request_stop();
}

void Scheduler::set_paused(bool paused) {
    {
        std::lock_guard lock(mutex_);
        paused_ = paused;
    }
    cv_.notify_all();
}

bool Scheduler::paused() const {
    std::lock_guard lock(mutex_);
    return paused_;
}

int Scheduler::busy() const {
    std::lock_guard lock(mutex_);
    return running_;
}

size_t Scheduler::queued() const {
    std::lock_guard lock(mutex_);
    size_t n = 0;
    for (const auto& [id, q] : jobs_) n += q.tasks.size();
    return n;
}

bool Scheduler::take(Task& task, std::stop_token& stop, int64_t& job) {
    if (paused_ || stopping_) return false;
    int best_priority = INT32_MIN;
    for (const auto& [id, q] : jobs_) {
        if (!q.tasks.empty()) best_priority = std::max(best_priority, q.priority);
    }
    if (best_priority == INT32_MIN) return false;
    // Round-robin: the first eligible job after the one served last, wrapping around.
    auto eligible = [&](const auto& entry) {
        return !entry.second.tasks.empty() && entry.second.priority == best_priority;
    };
    auto it = jobs_.upper_bound(last_served_);
    for (; it != jobs_.end() && !eligible(*it); ++it) {
    }
    if (it == jobs_.end()) {
        for (it = jobs_.begin(); it != jobs_.end() && !eligible(*it); ++it) {
        }
    }
    if (it == jobs_.end()) return false;
    job = it->first;
    last_served_ = job;
    task = std::move(it->second.tasks.front());
    it->second.tasks.pop_front();
    it->second.running++;
    stop = it->second.stop.get_token();
    running_++;
    return true;
}

void Scheduler::work(int worker) {
    while (true) {
        Task task;
        std::stop_token stop;
        int64_t job = 0;
        {
            std::unique_lock lock(mutex_);
            cv_.wait(lock, [&] { return stopping_ || take(task, stop, job); });
            if (!task) return;  // stopping with nothing taken
        }
        task(worker, stop);
        {
            std::lock_guard lock(mutex_);
            running_--;
            if (auto it = jobs_.find(job); it != jobs_.end()) it->second.running--;
        }
        idle_cv_.notify_all();
        cv_.notify_one();
        std::lock_guard hook(hook_mutex_);
        if (worker_free_) worker_free_();
    }
}

void Scheduler::on_worker_free(std::function<void()> hook) {
    std::lock_guard lock(hook_mutex_);
    worker_free_ = std::move(hook);
}

Status Scheduler::run_parallel(int64_t job, size_t n,
                               const std::function<Status(size_t, std::stop_token)>& fn) {
    struct State {
        std::mutex mutex;
        std::condition_variable done_cv;
        size_t next = 0;
        size_t finished = 0;
        std::optional<Error> error;
    };
    auto state = std::make_shared<State>();
    std::stop_token stop;
    {
        std::lock_guard lock(mutex_);
        stop = jobs_[job].stop.get_token();
    }
    // Runs items until none are left to start; shared by helpers and the caller.
    auto drain = [state, n, &fn](std::stop_token token) {
        while (true) {
            size_t i;
            bool failed;
            {
                std::lock_guard lock(state->mutex);
                if (state->next >= n) return;
                i = state->next++;
                failed = state->error.has_value();  // read under the lock: others write it
            }
            Status st = failed ? Status(make_error(Errc::cancelled, "cancelled")) : fn(i, token);
            std::lock_guard lock(state->mutex);
            if (!st.ok() && (!state->error || state->error->code == Errc::cancelled))
                state->error = st.error();
            if (++state->finished == n) state->done_cv.notify_all();
        }
    };
    // Helpers hold the state and a copy of fn's address; they only run while the caller waits.
    for (size_t i = 1; i < n; ++i)
        submit(job, [drain](int, std::stop_token token) { drain(token); });
    drain(stop);
    std::unique_lock lock(state->mutex);
    state->done_cv.wait(lock, [&] { return state->finished == n; });
    if (state->error) return *state->error;
    return {};
}

bool Scheduler::shutdown(std::chrono::milliseconds grace) {
    bool clean = true;
    {
        std::unique_lock lock(mutex_);
        if (threads_.empty()) return true;
        stopping_ = true;
        cv_.notify_all();
        clean = idle_cv_.wait_for(lock, grace, [this] { return running_ == 0; });
        if (!clean) {
            for (auto& [id, q] : jobs_) q.stop.request_stop();
        }
    }
    cv_.notify_all();
    threads_.clear();  // joins; running tasks see their stop tokens
    return clean;
}

}  // namespace rr::pipeline
