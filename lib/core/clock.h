#pragma once
#include <chrono>

namespace rr {

// Monotonic time for durations and rates; wall time only where a human reads it.
using SteadyClock = std::chrono::steady_clock;

inline double seconds_since(SteadyClock::time_point start) {
    return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

}  // namespace rr
