#pragma once
// What the prepare worker found and decided, written into the job's work folder (atomically)
// so that the chunk, audio and publish workers rebuild the same PreparedJob without
// checksumming, indexing or analysing the input again.

#include <filesystem>
#include <memory>

#include "core/logging.h"
#include "core/result.h"
#include "pipeline/job.h"

namespace rr::worker {

[[nodiscard]] std::filesystem::path plan_file(const std::filesystem::path& work_dir);

[[nodiscard]] Status write_plan(const pipeline::PreparedJob& job);

// prepare_job with the recorded checksum, frame index, interlace detection, encoder and analysis
// results; fails when the input no longer gives the recorded plan.
[[nodiscard]] Result<std::unique_ptr<pipeline::PreparedJob>> restore_job(
    const std::filesystem::path& input, const pipeline::JobSettings& settings,
    const LoggerPtr& logger);

// The part of the plan the daemon records: checksum, frame counts, chunk spans, audio, encoder.
[[nodiscard]] nlohmann::json plan_summary(const pipeline::PreparedJob& job);

}  // namespace rr::worker
