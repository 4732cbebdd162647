#include "pipeline/job_settings.h"

#include <sched.h>

#include <algorithm>
#include <opencv2/core.hpp>
#include <thread>

namespace rr::pipeline {

int available_cores() {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        int n = CPU_COUNT(&set);
        if (n > 0) return n;
    }
    unsigned n = std::thread::hardware_concurrency();
    return n > 0 ? static_cast<int>(n) : 1;
}

int resolve_workers(int requested) {
    return requested > 0 ? requested : available_cores();
}

int opencv_threads(int requested_workers) {
    return std::max(1, available_cores() / resolve_workers(requested_workers));
}

void configure_opencv_threads(int requested_workers) {
    cv::setNumThreads(opencv_threads(requested_workers));
}

}  // namespace rr::pipeline
