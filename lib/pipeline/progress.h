#pragma once
// Frame-level progress of one job, updated by worker threads and read by whoever reports it.

#include <atomic>
#include <cstdint>

#include "core/clock.h"

namespace rr::pipeline {

struct ProgressSnapshot {
    int64_t frames_done = 0;
    int64_t frames_total = 0;
    int chunks_done = 0;
    int chunks_total = 0;
    double elapsed = 0;  // seconds since processing started
    double fps = 0;
    double eta = -1;  // seconds, -1 when unknown
    [[nodiscard]] double fraction() const {
        return frames_total > 0 ? double(frames_done) / frames_total : 0;
    }
};

class Progress {
  public:
    void start(int64_t frames_total, int chunks_total) {
        frames_total_ = frames_total;
        chunks_total_ = chunks_total;
        frames_done_ = 0;
        chunks_done_ = 0;
        started_ = SteadyClock::now();
    }
    void add_frames(int64_t n) { frames_done_.fetch_add(n, std::memory_order_relaxed); }
    // Sets the frames done to n unless more were shown already: a cluster job's owner sums
    // what the nodes report, and that sum drops when a chunk's lease is taken over and its
    // frames start again from 0 elsewhere. The user never sees progress go backwards within
    // one start(); the count stands still until the sum passes it again.
    void advance_to(int64_t n) {
        int64_t now = frames_done_.load(std::memory_order_relaxed);
        while (n > now && !frames_done_.compare_exchange_weak(now, n, std::memory_order_relaxed)) {
        }
    }
    void chunk_done() { chunks_done_.fetch_add(1, std::memory_order_relaxed); }
    [[nodiscard]] ProgressSnapshot snapshot() const;

  private:
    std::atomic<int64_t> frames_done_{0};
    std::atomic<int> chunks_done_{0};
    int64_t frames_total_ = 0;
    int chunks_total_ = 0;
    SteadyClock::time_point started_ = SteadyClock::now();
};

}  // namespace rr::pipeline
