#pragma once
// People with OpenCV's HOG + linear SVM pedestrian detector (Dalal-Triggs, trained on INRIA
// persons; no model file). It finds upright people at least as tall as its 128-pixel window.
// Scores map the SVM margin m to 1 / (1 + exp(-2 (m - 1))): on OpenCV's own pedestrian clip
// (vtest.avi) people score margins of 1.7 to 4 and clutter below 1.2, so 0.75 (m = 1.55)
// separates them.

#include <opencv2/objdetect.hpp>
#include <vector>

#include "vision/detection.h"

namespace rr::vision {

class PeopleDetector {
  public:
    PeopleDetector();
    // People in `gray` (CV_8UC1) scoring at least `min_score`, in its pixels.
    [[nodiscard]] std::vector<Detection> detect(const cv::Mat& gray, float min_score);

  private:
    cv::HOGDescriptor hog_;
};

}  // namespace rr::vision
