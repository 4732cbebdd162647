#include "vision/detection.h"

#include <algorithm>

namespace rr::vision {

float iou(const cv::Rect2f& a, const cv::Rect2f& b) {
    const float inter = (a & b).area();
    const float uni = a.area() + b.area() - inter;
    return uni > 0 ? inter / uni : 0.0f;
}

std::vector<Detection> weighted_nms(std::vector<Detection> candidates, float iou_threshold) {
    std::sort(candidates.begin(), candidates.end(),
              [](const Detection& a, const Detection& b) { return a.score > b.score; });
    std::vector<bool> used(candidates.size(), false);
    std::vector<Detection> out;
    for (size_t i = 0; i < candidates.size(); ++i) {
        if (used[i]) continue;
        const Detection& best = candidates[i];
        double wsum = 0, x = 0, y = 0, w = 0, h = 0;
        for (size_t j = i; j < candidates.size(); ++j) {
            if (used[j] || candidates[j].label != best.label) continue;
            if (j != i && iou(best.box, candidates[j].box) < iou_threshold) continue;
            used[j] = true;
            const auto& b = candidates[j].box;
            const double s = candidates[j].score;
            wsum += s;
            x += s * b.x;
            y += s * b.y;
            w += s * b.width;
            h += s * b.height;
        }
        Detection merged = best;
        merged.box = cv::Rect2f(static_cast<float>(x / wsum), static_cast<float>(y / wsum),
                                static_cast<float>(w / wsum), static_cast<float>(h / wsum));
        out.push_back(std::move(merged));
    }
    return out;
}

}  // namespace rr::vision
