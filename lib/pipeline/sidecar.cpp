#include "pipeline/sidecar.h"

#include <algorithm>

#include "core/version.h"
#include "stages/rounding.h"

namespace rr::pipeline {

std::filesystem::path sidecar_path_for(const std::filesystem::path& output) {
    std::filesystem::path p = output;
    p.replace_extension();
    return p.string() + ".renderrush.json";
}

namespace {

// Runs of consecutive frames as [{start, end, frames}], seconds from the first frame; `end` is
// where the run's last frame stops showing.
nlohmann::json frame_ranges(const media::FrameIndex& index, std::vector<int64_t> ts) {
    std::sort(ts.begin(), ts.end());
    ts.erase(std::unique(ts.begin(), ts.end()), ts.end());
    nlohmann::json ranges = nlohmann::json::array();
    auto end_of = [&](int64_t t) {
        const int64_t at = index.frame_at(t);
        const bool has_next = at >= 0 && static_cast<size_t>(at) + 1 < index.frames();
        return index.seconds(has_next ? index.pts[static_cast<size_t>(at) + 1]
                                      : t + index.last_duration);
    };
    size_t i = 0;
    while (i < ts.size()) {
        size_t j = i + 1;
        int64_t at = index.frame_at(ts[i]);
        while (j < ts.size() && at >= 0 && index.frame_at(ts[j]) == at + 1) {
            ++at;
            ++j;
        }
        ranges.push_back({{"start", stages::round_to(index.seconds(ts[i]), 3)},
                          {"end", stages::round_to(end_of(ts[j - 1]), 3)},
                          {"frames", j - i}});
        i = j;
    }
    return ranges;
}

}  // namespace

nlohmann::json make_sidecar(const SidecarParts& parts) {
    const PreparedJob& job = *parts.job;
    nlohmann::json stage_list = nlohmann::json::array();
    for (size_t i = 0; i < job.stages.size(); ++i) {
        stage_list.push_back(
            {{"name", job.stages[i]->name()},
             {"params", job.stages[i]->params()},
             {"result",
              i < parts.stage_results.size() ? parts.stage_results[i] : nlohmann::json::object()}});
    }
    nlohmann::json chunks = nlohmann::json::array();
    std::vector<int64_t> lost, damaged;
    for (const auto& c : parts.chunks) {
        const auto& span = job.chunks.at(static_cast<size_t>(c.index));
        chunks.push_back({{"index", c.index},
                          {"start_time", span.start_time},
                          {"end_time", span.end_time},
                          {"first_frame", span.first_frame},
                          {"frames", c.frames},
                          {"starts_on_keyframe", span.starts_on_key},
                          {"seconds", c.seconds},
                          {"bytes", c.bytes},
                          {"lost", c.lost.size()},
                          {"damaged", c.damaged.size()}});
        if (!c.node.empty()) chunks.back()["node"] = c.node;
        if (c.started_at > 0) {
            chunks.back()["started_at"] = c.started_at;
            chunks.back()["finished_at"] = c.finished_at;
        }
        lost.insert(lost.end(), c.lost.begin(), c.lost.end());
        damaged.insert(damaged.end(), c.damaged.begin(), c.damaged.end());
    }
    nlohmann::json video = job.encoder.to_json();
    video["interlace"] = job.interlace.to_json();
    nlohmann::json timings = job.timings;
    for (const auto& [k, v] : parts.timings.items()) timings[k] = v;
    return {{"renderrush", {{"version", kVersion}}},
            {"input", media::to_json(job.info)},
            {"output", media::to_json(parts.output)},
            {"profile",
             parts.profile.empty() ? nlohmann::json(nullptr) : nlohmann::json(parts.profile)},
            {"stages", stage_list},
            {"video", video},
            {"audio", (parts.audio_plan ? *parts.audio_plan : job.audio).to_json()},
            {"subtitles", parts.assembly.subtitles},
            {"chapters", parts.assembly.chapters},
            {"frames",
             {{"input", job.total_frames()},
              {"output", parts.assembly.video_packets},
              {"exact_index", job.index.exact},
              {"cropped_to_even", job.cropped_to_even},
              {"damaged", damaged.size()},
              {"damaged_ranges", frame_ranges(job.index, damaged)},
              {"lost", lost.size()},
              {"lost_ranges", frame_ranges(job.index, lost)},
              {"missing_at_end", job.index.missing_at_end}}},
            // Lost frames against their budget (limits.decode_error_ratio).
            {"decode_errors", {{"count", lost.size()}, {"budget", decode_error_budget(job)}}},
            {"chunks", chunks},
            {"workers", job.workers},
            {"plan_workers", job.plan_workers()},
            {"threads_per_worker", job.threads_per_worker},
            {"timings", timings}};
}

}  // namespace rr::pipeline
