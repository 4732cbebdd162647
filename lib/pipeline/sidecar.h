#pragma once
// The machine-readable record of what a job did, written next to its output.

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "media/assembler.h"
#include "media/probe.h"
#include "pipeline/job.h"

namespace rr::pipeline {

// `<output without extension>.renderrush.json`
[[nodiscard]] std::filesystem::path sidecar_path_for(const std::filesystem::path& output);

struct SidecarParts {
    const PreparedJob* job = nullptr;
    std::string profile;  // name, or "" for --stages
    std::vector<ChunkOutcome> chunks;
    std::vector<nlohmann::json> stage_results;     // from summarize_stages
    const media::AudioPlan* audio_plan = nullptr;  // as run; the job's plan when null
    media::AssemblyReport assembly;
    media::MediaInfo output;
    nlohmann::json timings = nlohmann::json::object();
};

[[nodiscard]] nlohmann::json make_sidecar(const SidecarParts& parts);

}  // namespace rr::pipeline
