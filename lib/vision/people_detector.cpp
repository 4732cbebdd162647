#include "vision/people_detector.h"

#include <cmath>

namespace rr::vision {

PeopleDetector::PeopleDetector() {
    hog_.setSVMDetector(cv::HOGDescriptor::getDefaultPeopleDetector());
}

std::vector<Detection> PeopleDetector::detect(const cv::Mat& gray, float min_score) {
    std::vector<cv::Rect> found;
    std::vector<double> weights;
    // The margin that gives min_score; OpenCV then skips weaker windows early.
    const double threshold = 1.0 + 0.5 * std::log(min_score / std::max(1e-6f, 1.0f - min_score));
    hog_.detectMultiScale(gray, found, weights, threshold, cv::Size(8, 8), cv::Size(16, 16), 1.05,
                          2.0);
    std::vector<Detection> out;
    const cv::Rect2f frame(0, 0, static_cast<float>(gray.cols), static_cast<float>(gray.rows));
    for (size_t i = 0; i < found.size(); ++i) {
        const double w = i < weights.size() ? weights[i] : 0.0;
        const auto score = static_cast<float>(1.0 / (1.0 + std::exp(-2.0 * (w - 1.0))));
        if (score < min_score) continue;
        cv::Rect2f box = cv::Rect2f(found[i]) & frame;
        if (box.area() > 0) out.push_back({"person", score, box});
    }
    return out;
}

}  // namespace rr::vision
