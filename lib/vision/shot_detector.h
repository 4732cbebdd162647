#pragma once
// Shot boundaries from per-frame statistics, after PySceneDetect's AdaptiveDetector and its
// fade (threshold) detection:
//  - content: the mean HSV difference between consecutive frames (hue taken circularly);
//    a frame starts a new shot when its difference is at least `min_content` and at least
//    `adaptive_threshold` times the average difference of the `window` frames on either side,
//    so steady motion (pans, zooms) raises the bar and only sudden change counts.
//  - fades: a run of dark frames (mean luma below `dark_level`) between lit frames is a fade
//    through black; the new shot starts in the middle of the run.
// Shots shorter than `min_scene_seconds` are merged into the one before.

#include <cstdint>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

namespace rr::vision {

struct ShotOptions {
    double adaptive_threshold = 3.0;
    double min_content = 15.0;
    int window = 2;
    double dark_level = 12.0;  // mean luma, 0..255 full range
    double min_scene_seconds = 0.6;
};

struct ShotCut {
    int64_t frame = 0;  // first frame of the new shot
    std::string kind;   // "cut" | "fade"
    double score = 0;   // content difference (cut) or darkest luma (fade)
};

struct ShotAnalysis {
    std::vector<ShotCut> cuts;  // in frame order
    int64_t first_lit = 0;      // frames before this are dark from the start
    int64_t end_lit = 0;        // frames from this on are dark to the end
};

// `content[i]`: difference between frames i-1 and i (content[0] is ignored); `luma[i]`: mean
// luma of frame i; `times[i]`: its presentation time in seconds. All the same length.
[[nodiscard]] ShotAnalysis detect_shots(const std::vector<double>& content,
                                        const std::vector<double>& luma,
                                        const std::vector<double>& times,
                                        const ShotOptions& options = {});

// A small HSV picture of a frame for comparisons (CV_8UC3, OpenCV's H 0..179).
[[nodiscard]] cv::Mat hsv_of(const cv::Mat& bgr);
// PySceneDetect's content value: the mean over pixels and channels of |ΔH|, |ΔS|, |ΔV|.
[[nodiscard]] double content_difference(const cv::Mat& hsv_a, const cv::Mat& hsv_b);

}  // namespace rr::vision
