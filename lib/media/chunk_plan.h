#pragma once
// Splits an indexed video into chunks of about `chunk_seconds`, preferring keyframe starts.
// Where keyframes are too sparse a chunk may start on any frame: its worker then decodes
// from the previous keyframe and drops the frames before its start, so chunks stay exact.

#include <cstdint>
#include <span>
#include <vector>

#include "media/frame_index.h"

namespace rr::media {

struct ChunkSpan {
    int index = 0;
    int64_t first_frame = 0;  // inclusive, presentation order
    int64_t end_frame = 0;    // exclusive
    int64_t start_pts = 0;
    int64_t end_pts = INT64_MAX;  // pts of the next chunk's first frame; INT64_MAX for the last
    bool starts_on_key = true;
    double start_time = 0;  // seconds from the first frame
    double end_time = 0;

    [[nodiscard]] int64_t frames() const { return end_frame - first_frame; }
};

struct PlanOptions {
    double chunk_seconds = 10.0;
    // Frames where a cut is preferred (e.g. scene changes); honoured when near a target.
    std::span<const int64_t> preferred_cuts;
};

[[nodiscard]] std::vector<ChunkSpan> plan_chunks(const FrameIndex& index,
                                                 const PlanOptions& options);

}  // namespace rr::media
