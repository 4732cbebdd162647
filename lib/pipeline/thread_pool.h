#pragma once
// A fixed set of worker threads taking tasks from a queue. Tasks receive the pool's stop
// token and are expected to check it once per frame.

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <stop_token>
#include <thread>
#include <vector>

namespace rr::pipeline {

class ThreadPool {
  public:
    using Task = std::function<void(std::stop_token)>;

    explicit ThreadPool(int threads);
    ~ThreadPool();  // requests stop, then joins
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    void submit(Task task);
    // Blocks until the queue is empty and no task is running.
    void wait_idle();
    void request_stop() {
        stop_.request_stop();
        cv_.notify_all();
        idle_cv_.notify_all();
    }
    [[nodiscard]] std::stop_token stop_token() const { return stop_.get_token(); }
    [[nodiscard]] int size() const { return static_cast<int>(threads_.size()); }

  private:
    void run(std::stop_token pool_stop);

    std::stop_source stop_;
    std::mutex mutex_;
    std::condition_variable_any cv_;
    std::condition_variable idle_cv_;
    std::deque<Task> queue_;
    int running_ = 0;
    std::vector<std::jthread> threads_;
};

}  // namespace rr::pipeline
