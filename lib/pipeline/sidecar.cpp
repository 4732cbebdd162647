#include "pipeline/sidecar.h"

#include "core/version.h"

namespace rr::pipeline {

std::filesystem::path sidecar_path_for(const std::filesystem::path& output) {
    std::filesystem::path p = output;
    p.replace_extension();
    return p.string() + ".renderrush.json";
}

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
    int64_t decode_errors = 0;
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
                          {"decode_errors", c.decode_errors}});
        decode_errors += c.decode_errors;
    }
    nlohmann::json timings = job.timings;
    for (const auto& [k, v] : parts.timings.items()) timings[k] = v;
    return {{"renderrush", {{"version", kVersion}}},
            {"input", media::to_json(job.info)},
            {"output", media::to_json(parts.output)},
            {"profile",
             parts.profile.empty() ? nlohmann::json(nullptr) : nlohmann::json(parts.profile)},
            {"stages", stage_list},
            {"video", job.encoder.to_json()},
            {"audio", (parts.audio_plan ? *parts.audio_plan : job.audio).to_json()},
            {"subtitles", parts.assembly.subtitles},
            {"chapters", parts.assembly.chapters},
            {"frames",
             {{"input", job.total_frames()},
              {"output", parts.assembly.video_packets},
              {"exact_index", job.index.exact},
              {"cropped_to_even", job.cropped_to_even}}},
            {"decode_errors", {{"count", decode_errors}, {"budget", decode_error_budget(job)}}},
            {"chunks", chunks},
            {"workers", job.workers},
            {"threads_per_worker", job.threads_per_worker},
            {"timings", timings}};
}

}  // namespace rr::pipeline
