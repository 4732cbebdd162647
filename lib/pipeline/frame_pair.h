#pragma once
// The before/after pair the dashboard shows for a finished job: one small JPEG of the input
// and one of the output at the same moment (the middle of the output), written at publish
// into `<output>.frames/` beside the output.

#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/result.h"

namespace rr::pipeline {

struct FramePairRequest {
    std::filesystem::path input;
    std::filesystem::path output;  // the assembled output (its staged name is fine)
    // Where the output's first frame is in the input, in seconds from the input's first frame
    // (non-zero when a stage trimmed the start).
    double input_offset = 0;
    double output_duration = 0;
    int max_width = 480;
};

// Writes before.jpg and after.jpg into `dir` (created); returns the sidecar's `preview`
// record: {"time", "before", "after", "width", "height"} with names relative to `dir`'s parent.
[[nodiscard]] Result<nlohmann::json> write_frame_pair(const FramePairRequest& request,
                                                      const std::filesystem::path& dir);

// `<output>.frames`
[[nodiscard]] std::filesystem::path frame_pair_dir(const std::filesystem::path& output);

}  // namespace rr::pipeline
