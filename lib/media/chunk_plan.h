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
    // Frames where a cut is preferred (e.g. scene changes); honoured within half a chunk of
    // a target.
    std::span<const int64_t> preferred_cuts;
    // How far (as a fraction of chunk_seconds) a keyframe may pull a cut away from its
    // target. Wide when there are many chunks (the pool evens out their lengths); narrow when
    // there is one chunk per worker, where the longest chunk is the job's wall time and
    // decoding a few frames from an earlier keyframe costs less than the imbalance.
    double keyframe_window = 0.5;
    // Frames the stages need decoded before each chunk's first frame. A cut that far after a
    // keyframe counts as a keyframe cut: its worker starts decoding right on that keyframe.
    int preroll_frames = 0;
};

[[nodiscard]] std::vector<ChunkSpan> plan_chunks(const FrameIndex& index,
                                                 const PlanOptions& options);

}  // namespace rr::media
