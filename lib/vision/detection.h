#pragma once
// What detectors report, and the box arithmetic shared by detectors and the tracker.

#include <opencv2/core.hpp>
#include <string>
#include <vector>

namespace rr::vision {

struct Detection {
    std::string label;  // "face" | "person"
    float score = 0;    // 0..1
    cv::Rect2f box;     // pixels of the picture the detector was given
};

[[nodiscard]] float iou(const cv::Rect2f& a, const cv::Rect2f& b);

// Weighted non-maximum suppression (BlazeFace's post-processing): detections overlapping
// the best remaining one by at least `iou_threshold` are merged into it, their boxes averaged
// with their scores as weights; the merged detection keeps the best score.
[[nodiscard]] std::vector<Detection> weighted_nms(std::vector<Detection> candidates,
                                                  float iou_threshold);

}  // namespace rr::vision
