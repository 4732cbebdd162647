#include "pipeline/progress.h"

namespace rr::pipeline {

ProgressSnapshot Progress::snapshot() const {
    ProgressSnapshot s;
    s.frames_done = frames_done_.load(std::memory_order_relaxed);
    s.frames_total = frames_total_;
    s.chunks_done = chunks_done_.load(std::memory_order_relaxed);
    s.chunks_total = chunks_total_;
    s.elapsed = seconds_since(started_);
    s.fps = s.elapsed > 0 ? s.frames_done / s.elapsed : 0;
    if (s.fps > 0 && s.frames_total > 0) s.eta = (s.frames_total - s.frames_done) / s.fps;
    return s;
}

}  // namespace rr::pipeline
