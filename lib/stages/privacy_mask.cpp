#include "stages/privacy_mask.h"

#include <algorithm>
#include <opencv2/imgproc.hpp>

#include "stages/frame_views.h"

namespace rr::stages {
namespace {

cv::Rect clip(const cv::Rect2f& r, int w, int h) {
    cv::Rect px(static_cast<int>(std::floor(r.x)), static_cast<int>(std::floor(r.y)),
                static_cast<int>(std::ceil(r.x + r.width)) - static_cast<int>(std::floor(r.x)),
                static_cast<int>(std::ceil(r.y + r.height)) - static_cast<int>(std::floor(r.y)));
    return px & cv::Rect(0, 0, w, h);
}

cv::Rect2f in_plane(const cv::Rect2f& r, int plane, const YuvLayout& l) {
    if (plane == 0) return r;
    const float sx = 1.0f / static_cast<float>(1 << l.chroma_shift_w);
    const float sy = 1.0f / static_cast<float>(1 << l.chroma_shift_h);
    return {r.x * sx, r.y * sy, r.width * sx, r.height * sy};
}

// BT.709 limited-range YUV of the box colours, scaled to the frame's depth.
cv::Scalar colour(const std::string& label, int plane, const YuvLayout& l) {
    // face: green (Y 173, U 42, V 26); person: orange (Y 164, U 54, V 178)
    const int face[3] = {173, 42, 26}, person[3] = {164, 54, 178};
    const int v = (label == "face" ? face : person)[plane];
    return cv::Scalar(v << (l.depth - 8));
}

}  // namespace

void apply_mask(AVFrame& frame, const YuvLayout& layout, MaskAction action, cv::Rect2f box,
                const std::string& label) {
    if (action == MaskAction::none) return;
    if (action == MaskAction::boxes) {
        const int thick = std::max(2, static_cast<int>(std::lround(frame.height / 270.0)));
        for (int p = 0; p < layout.planes; ++p) {
            cv::Mat m = plane(frame, p, layout);
            const cv::Rect r = clip(in_plane(box, p, layout), m.cols, m.rows);
            const int t = p == 0 ? thick : std::max(1, thick >> layout.chroma_shift_w);
            if (r.area() > 0) cv::rectangle(m, r, colour(label, p, layout), t);
        }
        return;
    }
    const cv::Rect2f grown(box.x - box.width * kMaskMargin, box.y - box.height * kMaskMargin,
                           box.width * (1 + 2 * kMaskMargin), box.height * (1 + 2 * kMaskMargin));
    const float extent = std::max(grown.width, grown.height);
    for (int p = 0; p < layout.planes; ++p) {
        cv::Mat m = plane(frame, p, layout);
        const cv::Rect r = clip(in_plane(grown, p, layout), m.cols, m.rows);
        if (r.width < 2 || r.height < 2) continue;
        cv::Mat roi = m(r);
        const float size =
            p == 0 ? extent : extent / static_cast<float>(1 << layout.chroma_shift_w);
        if (action == MaskAction::blur) {
            // A Gaussian as wide as a sixth of the region leaves no facial feature readable;
            // it is done at reduced size so large faces cost no more than small ones.
            const double sigma = std::max(2.0, size / 6.0);
            const double shrink = std::min(1.0, 8.0 / sigma);
            cv::Mat small;
            cv::resize(roi, small, cv::Size(), shrink, shrink, cv::INTER_AREA);
            cv::GaussianBlur(small, small, cv::Size(), sigma * shrink, sigma * shrink,
                             cv::BORDER_REPLICATE);
            cv::resize(small, roi, roi.size(), 0, 0, cv::INTER_LINEAR);
        } else {
            // About ten blocks across the region.
            const int block = std::max(4, static_cast<int>(size / 10));
            cv::Mat small;
            cv::resize(roi, small,
                       cv::Size(std::max(1, roi.cols / block), std::max(1, roi.rows / block)), 0, 0,
                       cv::INTER_AREA);
            cv::resize(small, roi, roi.size(), 0, 0, cv::INTER_NEAREST);
        }
    }
}

}  // namespace rr::stages
