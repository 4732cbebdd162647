#pragma once
#include <chrono>

namespace rr {

// Monotonic time for durations and rates; wall time only where a human reads it.
using SteadyClock = std::chrono::steady_clock;

inline double seconds_since(SteadyClock::time_point start) {
    return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

// Wall clock, Unix seconds: when a chunk ran, for the dashboard's timeline, comparable between
// the nodes of a cluster.
inline double unix_seconds() {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace rr
