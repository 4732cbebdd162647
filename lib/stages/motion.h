#pragma once
// Global camera motion between consecutive frames: corners tracked with pyramidal
// Lucas-Kanade optical flow and a similarity transform (shift, rotation, scale) fitted to them
// with RANSAC, so moving objects do not count as camera motion.

#include <opencv2/core.hpp>
#include <vector>

#include "media/av_handles.h"
#include "stages/planes.h"

namespace rr::stages {

struct Motion {
    double dx = 0, dy = 0;  // pixels of the full frame: where content moved
    double da = 0;          // radians, about the frame centre
    bool found = false;     // false: too few features agreed (counted as no motion)
};

class MotionEstimator {
  public:
    // Frames are analysed at most `max_width` wide (motion is scaled back to full size).
    explicit MotionEstimator(int max_width = 640) : max_width_(max_width) {}

    // Motion from the previous frame given to this estimator to `frame` (none for the first).
    Motion next(const AVFrame& frame, const YuvLayout& layout);

  private:
    int max_width_;
    double scale_ = 1.0;
    cv::Mat prev_;
    std::vector<cv::Point2f> prev_points_;
};

}  // namespace rr::stages
