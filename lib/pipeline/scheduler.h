#pragma once
// One pool of worker threads shared by every job, at task (chunk) granularity. Workers take
// tasks round-robin across the jobs of the highest priority present, so a long job never
// starves a short one. Each job has its own stop source for cancellation; the pool can be
// paused (running tasks finish, no new ones start) and shut down with a grace period.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <stop_token>
#include <thread>
#include <vector>

#include "core/result.h"

namespace rr::pipeline {

class Scheduler {
  public:
    using Task = std::function<void(int worker, std::stop_token stop)>;

    explicit Scheduler(int workers);
    ~Scheduler();  // shutdown with no grace
    Scheduler(const Scheduler&) = delete;
    Scheduler& operator=(const Scheduler&) = delete;

    void add_job(int64_t job, int priority);
    // Forgets a job: queued tasks are dropped (call once its running tasks have reported).
    void remove_job(int64_t job);
    void submit(int64_t job, Task task);
    // Drops the job's queued tasks and asks its running ones to stop.
    void cancel(int64_t job);

    // Runs fn(0..n-1) for `job`, using idle workers and the calling thread, and returns the
    // first failure. Safe to call from inside a task: the caller works through the items
    // itself, so it never waits on a worker that is waiting on it.
    [[nodiscard]] Status run_parallel(int64_t job, size_t n,
                                      const std::function<Status(size_t, std::stop_token)>& fn);

    // Called on the worker's thread each time a task ended and its worker is free again (the
    // pool's counts already say so): a source of work outside the pool (the cluster queue)
    // claims more at once instead of polling. Replacing or clearing it waits for a call in
    // progress, so the caller may go away afterwards.
    void on_worker_free(std::function<void()> hook);

    void set_paused(bool paused);
    [[nodiscard]] bool paused() const;
    [[nodiscard]] int busy() const;
    [[nodiscard]] int size() const { return static_cast<int>(threads_.size()); }
    [[nodiscard]] size_t queued() const;

    // Stops starting tasks, lets running ones finish for up to `grace`, then asks them to stop
    // and joins the workers. Returns true when everything finished within the grace period.
    bool shutdown(std::chrono::milliseconds grace);

  private:
    struct JobQueue {
        int priority = 0;
        std::deque<Task> tasks;
        std::stop_source stop;
        int running = 0;
    };
    void work(int worker);
    // Picks the next task under the lock; false when none may run now.
    bool take(Task& task, std::stop_token& stop, int64_t& job);

    mutable std::mutex mutex_;
    std::condition_variable cv_;       // workers wait for tasks
    std::condition_variable idle_cv_;  // shutdown waits for running tasks
    std::map<int64_t, JobQueue> jobs_;
    int64_t last_served_ = INT64_MIN;
    int running_ = 0;
    bool paused_ = false;
    bool stopping_ = false;
    std::mutex hook_mutex_;  // held while the hook runs
    std::function<void()> worker_free_;
    std::vector<std::jthread> threads_;
};

}  // namespace rr::pipeline
