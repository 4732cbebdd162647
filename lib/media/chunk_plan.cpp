#include "media/chunk_plan.h"

#include <algorithm>
#include <cmath>

namespace rr::media {
namespace {

// Picks the cut frame for a chunk that should end near `target` seconds. Within the search
// window a preferred cut beats a plain keyframe, and a keyframe beats a non-key frame (with
// pre-roll, "keyframe" means that decoding the chunk's pre-roll starts on one).
int64_t choose_cut(const FrameIndex& index, const PlanOptions& options, int64_t after,
                   double target, double window, double key_window) {
    const auto n = static_cast<int64_t>(index.frames());
    auto time_of = [&](int64_t f) { return index.seconds(index.pts[f]); };
    const int64_t lo = after + 1;
    auto first_at_or_after = [&](double t) {
        return std::partition_point(index.pts.begin() + lo, index.pts.end(),
                                    [&](int64_t pts) { return index.seconds(pts) < t; }) -
               index.pts.begin();
    };
    const int64_t first = first_at_or_after(target - window);
    int64_t best = -1;
    int best_rank = 3;
    double best_dist = 0;
    for (int64_t f = first; f < n && time_of(f) <= target + window; ++f) {
        const double dist = std::abs(time_of(f) - target);
        const int64_t decode_from = f - options.preroll_frames;
        const bool key = decode_from >= 0 && index.is_key_frame(static_cast<size_t>(decode_from));
        int rank = 2;
        if (std::binary_search(options.preferred_cuts.begin(), options.preferred_cuts.end(), f)) {
            rank = key ? 0 : 1;
        } else if (key && dist <= key_window) {
            rank = 1;
        }
        if (rank < best_rank || (rank == best_rank && dist < best_dist)) {
            best = f;
            best_rank = rank;
            best_dist = dist;
        }
    }
    if (best >= 0) return best;
    // No frame inside the window at all (a gap in a variable-rate stream): first frame after it.
    return first_at_or_after(target);
}

}  // namespace

std::vector<ChunkSpan> plan_chunks(const FrameIndex& index, const PlanOptions& options) {
    std::vector<ChunkSpan> chunks;
    const auto n = static_cast<int64_t>(index.frames());
    if (n == 0) return chunks;
    const double span = options.chunk_seconds > 0 ? options.chunk_seconds : 1e18;
    const double total = index.seconds(index.pts.back()) +
                         static_cast<double>(index.last_duration) * av_q2d(index.time_base);

    std::vector<int64_t> starts{0};
    if (index.exact) {
        while (true) {
            const int64_t start = starts.back();
            const double target = index.seconds(index.pts[start]) + span;
            // Leave no tail shorter than half a chunk: it joins the last chunk instead.
            if (target + span / 2 >= total) break;
            int64_t cut =
                choose_cut(index, options, start, target, span / 2, span * options.keyframe_window);
            if (cut >= n || cut <= start) break;
            starts.push_back(cut);
        }
    }
    for (size_t i = 0; i < starts.size(); ++i) {
        ChunkSpan c;
        c.index = static_cast<int>(i);
        c.first_frame = starts[i];
        c.end_frame = i + 1 < starts.size() ? starts[i + 1] : n;
        c.start_pts = index.pts[c.first_frame];
        c.end_pts = i + 1 < starts.size() ? index.pts[c.end_frame] : INT64_MAX;
        c.starts_on_key = index.is_key_frame(static_cast<size_t>(c.first_frame));
        c.start_time = index.seconds(c.start_pts);
        c.end_time = i + 1 < starts.size() ? index.seconds(c.end_pts) : total;
        chunks.push_back(c);
    }
    return chunks;
}

}  // namespace rr::media
