#pragma once
// Frames processed per minute over the last hour, for the dashboard's throughput chart. Fed
// from the event stream: progress events give each running job's frames so far, and a job's
// end adds whatever its last progress event had not counted yet (short jobs may have none).

#include <array>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>

#include "control/events.h"
#include "core/clock.h"

namespace rr::service {

class Throughput {
  public:
    static constexpr size_t kMinutes = 60;

    explicit Throughput(SteadyClock::time_point start = SteadyClock::now()) : start_(start) {}
    void observe(const control::Event& event, SteadyClock::time_point now);
    // {"minutes": [frames per minute, oldest first, the running minute last], "fps": over
    // the last full minute, "seconds_into_minute"}
    [[nodiscard]] nlohmann::json to_json(SteadyClock::time_point now);

  private:
    void add(int64_t frames, SteadyClock::time_point now);
    void advance(SteadyClock::time_point now);

    SteadyClock::time_point start_;
    int64_t minute_ = 0;  // minutes since start_ of ring_[head_]
    size_t head_ = 0;
    std::array<int64_t, kMinutes> ring_{};
    std::map<int64_t, int64_t> counted_;  // frames already counted per running job
};

}  // namespace rr::service
