#pragma once
// What the audio stages report when the input has no audio: the same answer whether the audio
// task ran in-process (run_audio) or was skipped by the daemon and the publish worker fills it in.

#include <nlohmann/json.hpp>
#include <vector>

#include "pipeline/job.h"

namespace rr::pipeline {

// One entry per stage: {"applied": false, "reason"} for audio stages, null for the others.
[[nodiscard]] std::vector<nlohmann::json> no_audio_results(const PreparedJob& job);

}  // namespace rr::pipeline
