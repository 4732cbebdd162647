#pragma once
// The camera path of a whole video and the per-frame corrections that smooth it. Pure
// functions of the per-frame motions, so chunk-parallel analysis gives the same result as a
// single pass and chunk boundaries cannot show.

#include <vector>

#include "stages/motion.h"

namespace rr::stages {

struct PathPoint {
    double x = 0, y = 0, a = 0;
};

struct StabilizePlan {
    std::vector<PathPoint> correction;  // per frame: shift (px) and rotation (rad) to apply
    double zoom = 1.0;                  // uniform zoom that hides the borders (crop=zoom)
    // Frame-to-frame movement at the frame's corner (px), before and after correction.
    double shake_before_mean = 0, shake_before_max = 0;
    double shake_after_mean = 0, shake_after_max = 0;
    int clamped_frames = 0;  // corrections cut short by max_shift/max_angle
};

struct StabilizeOptions {
    int smoothing = 30;     // frames in the smoothing window
    double max_shift = 0;   // px
    double max_angle = 0;   // rad
    bool zoom = true;       // false: black borders
    double max_zoom = 2.0;  // never magnify more than this
};

// `motions[i]` is the motion from frame i-1 to frame i (motions[0] is ignored).
[[nodiscard]] StabilizePlan plan_stabilization(const std::vector<Motion>& motions, int width,
                                               int height, const StabilizeOptions& options);

// Smooths a path with a Gaussian window (σ = smoothing/4, radius smoothing/2). The ends are
// extended along a straight line fitted to their first/last radius points, so pans stay
// pans and the first and last frames are stabilised like the rest.
[[nodiscard]] std::vector<double> smooth_path(const std::vector<double>& path, int smoothing);

}  // namespace rr::stages
