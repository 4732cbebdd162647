#include "service/throughput.h"

#include <algorithm>

#include "store/job_store.h"

namespace rr::service {

void Throughput::advance(SteadyClock::time_point now) {
    const auto minute = std::chrono::duration_cast<std::chrono::minutes>(now - start_).count();
    // A long idle gap clears the whole ring; otherwise each minute passed starts empty.
    for (int64_t m = minute_; m < minute && m < minute_ + static_cast<int64_t>(kMinutes); ++m) {
        head_ = (head_ + 1) % kMinutes;
        ring_[head_] = 0;
    }
    minute_ = std::max<int64_t>(minute_, minute);
}

void Throughput::add(int64_t frames, SteadyClock::time_point now) {
    advance(now);
    if (frames > 0) ring_[head_] += frames;
}

void Throughput::observe(const control::Event& event, SteadyClock::time_point now) {
    if (const auto* p = std::get_if<control::ProgressEvent>(&event)) {
        int64_t& seen = counted_[p->job.id];
        add(p->job.frames_done - seen, now);
        seen = std::max(seen, p->job.frames_done);
    } else if (const auto* job = std::get_if<control::JobEvent>(&event)) {
        if (!store::is_final(job->state)) return;
        const auto it = counted_.find(job->id);
        const int64_t seen = it == counted_.end() ? 0 : it->second;
        if (store::published(job->state) && job->totals) add(job->totals->frames_in - seen, now);
        if (it != counted_.end()) counted_.erase(it);
    }
}

nlohmann::json Throughput::to_json(SteadyClock::time_point now) {
    advance(now);
    nlohmann::json minutes = nlohmann::json::array();
    for (size_t i = 1; i <= kMinutes; ++i) minutes.push_back(ring_[(head_ + i) % kMinutes]);
    const double into = std::chrono::duration<double>(now - start_).count() - 60.0 * minute_;
    return {{"minutes", std::move(minutes)},
            {"fps", static_cast<double>(ring_[(head_ + kMinutes - 1) % kMinutes]) / 60.0},
            {"seconds_into_minute", static_cast<int>(into)}};
}

}  // namespace rr::service
