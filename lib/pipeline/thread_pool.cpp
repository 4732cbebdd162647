#include "pipeline/thread_pool.h"

namespace rr::pipeline {

ThreadPool::ThreadPool(int threads) {
    threads_.reserve(static_cast<size_t>(threads));
    for (int i = 0; i < threads; ++i) {
        threads_.emplace_back([this](std::stop_token) { run(stop_.get_token()); });
    }
}

ThreadPool::~ThreadPool() {
    stop_.request_stop();
    cv_.notify_all();
    threads_.clear();  // joins
}

void ThreadPool::submit(Task task) {
    {
        std::lock_guard lock(mutex_);
        queue_.push_back(std::move(task));
    }
    cv_.notify_one();
}

void ThreadPool::wait_idle() {
    std::unique_lock lock(mutex_);
    idle_cv_.wait(lock,
                  [this] { return (queue_.empty() || stop_.stop_requested()) && running_ == 0; });
}

void ThreadPool::run(std::stop_token pool_stop) {
    while (true) {
        Task task;
        {
            std::unique_lock lock(mutex_);
            if (!cv_.wait(lock, pool_stop, [this] { return !queue_.empty(); })) return;
            task = std::move(queue_.front());
            queue_.pop_front();
            ++running_;
        }
        task(pool_stop);
        {
            std::lock_guard lock(mutex_);
            --running_;
        }
        idle_cv_.notify_all();
    }
}

}  // namespace rr::pipeline
