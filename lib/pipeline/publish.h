#pragma once
// The end of every job, shared by `renderrushd process` and the daemon: check the decode-error
// budget, assemble under a temporary name, describe the result, let stages write their files,
// write the sidecar, and only then publish the output under its final name.

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "pipeline/job.h"

namespace rr::pipeline {

struct PublishRequest {
    const PreparedJob* job = nullptr;
    std::vector<ChunkOutcome> chunks;  // every chunk, in order
    std::vector<std::filesystem::path> chunk_files;
    std::optional<std::filesystem::path> audio_file;
    AudioOutcome audio;  // the audio task's plan as run and the audio stages' results
    std::filesystem::path output;
    std::string profile_name;
    nlohmann::json timings = nlohmann::json::object();
    SteadyClock::time_point started = SteadyClock::now();  // for timings.total
    // The dashboard's before/after pictures in <output>.frames/ (the daemon asks for them).
    bool frame_pair = false;
    // Attempts that failed before their task succeeded ({task, error}), for the record.
    nlohmann::json retried = nlohmann::json::array();
    // Cluster mode: stop before publishing. The output, the sidecar and the accompanying files
    // stay under their temporary names (fsynced) and are returned in Published::staged_*; the
    // caller records the output in the queue first and then publishes them
    // (service::record_then_publish).
    bool stage_only = false;
};

struct Published {
    nlohmann::json sidecar;
    std::filesystem::path sidecar_path;
    // stage_only: temp_sibling()s of the output and of sidecar_path, and the accompanying
    // files (stages' extras, the <output>.frames/ folder), not yet published.
    std::filesystem::path staged_output, staged_sidecar;
    std::vector<StagedPath> staged_extras;
};

// Every name a job's publication may put beside `output`, besides the output and its sidecar:
// the stages' accompanying files (stages::kDetectionsSuffix, ...) and <output>.frames/.
[[nodiscard]] std::vector<std::filesystem::path> accompanying_paths(
    const std::filesystem::path& output);
// Removes what a publication of `output` left staged: the exact temporary names of the
// output, its sidecar and accompanying_paths(), nothing else. Returns how many went.
size_t remove_staged_files(const std::filesystem::path& output);

[[nodiscard]] Result<Published> publish_job(PublishRequest request);

// Chunk outcomes as stored between daemon restarts.
[[nodiscard]] nlohmann::json to_json(const ChunkOutcome& outcome);
[[nodiscard]] ChunkOutcome chunk_outcome_from_json(const nlohmann::json& j);
// The audio outcome as stored: its filters per stream and the stages' results; `job` gives
// the rest of the plan.
[[nodiscard]] nlohmann::json to_json(const AudioOutcome& outcome);
[[nodiscard]] AudioOutcome audio_outcome_from_json(const PreparedJob& job, const nlohmann::json& j);

// Where chunk intermediates go inside a job's work directory.
[[nodiscard]] std::filesystem::path chunk_file(const std::filesystem::path& work_dir, int chunk);
[[nodiscard]] std::filesystem::path audio_file(const std::filesystem::path& work_dir);

}  // namespace rr::pipeline
