#include "vision/shot_detector.h"

#include <algorithm>
#include <opencv2/imgproc.hpp>

namespace rr::vision {

cv::Mat hsv_of(const cv::Mat& bgr) {
    cv::Mat hsv;
    cv::cvtColor(bgr, hsv, cv::COLOR_BGR2HSV);
    return hsv;
}

double content_difference(const cv::Mat& a, const cv::Mat& b) {
    CV_Assert(a.size() == b.size() && a.type() == CV_8UC3 && b.type() == CV_8UC3);
    double sum = 0;
    for (int y = 0; y < a.rows; ++y) {
        const auto* pa = a.ptr<cv::Vec3b>(y);
        const auto* pb = b.ptr<cv::Vec3b>(y);
        for (int x = 0; x < a.cols; ++x) {
            const int dh = std::abs(pa[x][0] - pb[x][0]);
            sum += std::min(dh, 180 - dh);  // hue is an angle: 179 and 0 are neighbours
            sum += std::abs(pa[x][1] - pb[x][1]);
            sum += std::abs(pa[x][2] - pb[x][2]);
        }
    }
    return sum / (3.0 * static_cast<double>(a.total()));
}

ShotAnalysis detect_shots(const std::vector<double>& content, const std::vector<double>& luma,
                          const std::vector<double>& times, const ShotOptions& o) {
    ShotAnalysis r;
    const auto n = static_cast<int64_t>(luma.size());
    r.end_lit = n;
    if (n == 0) return r;
    auto dark = [&](int64_t i) { return luma[static_cast<size_t>(i)] < o.dark_level; };
    while (r.first_lit < n && dark(r.first_lit)) ++r.first_lit;
    while (r.end_lit > r.first_lit && dark(r.end_lit - 1)) --r.end_lit;

    // Fades through black: dark runs with lit frames on both sides.
    std::vector<ShotCut> candidates;
    std::vector<std::pair<int64_t, int64_t>> dark_runs;
    for (int64_t i = r.first_lit; i < r.end_lit; ++i) {
        if (!dark(i)) continue;
        int64_t j = i;
        double darkest = luma[static_cast<size_t>(i)];
        while (j < r.end_lit && dark(j))
            darkest = std::min(darkest, luma[static_cast<size_t>(j++)]);
        dark_runs.emplace_back(i, j);
        candidates.push_back({(i + j) / 2, "fade", darkest});
        i = j;
    }
    auto in_fade = [&](int64_t f) {
        for (const auto& [a, b] : dark_runs) {
            if (f >= a && f <= b) return true;  // up to the first lit frame after the run
        }
        return false;
    };
    // Content cuts, measured against the frames around them.
    for (int64_t i = std::max<int64_t>(1, r.first_lit + 1); i < r.end_lit; ++i) {
        const double v = content[static_cast<size_t>(i)];
        if (v < o.min_content || in_fade(i)) continue;
        double sum = 0;
        int count = 0;
        for (int64_t k = i - o.window; k <= i + o.window; ++k) {
            if (k == i || k < 1 || k >= n) continue;
            sum += content[static_cast<size_t>(k)];
            ++count;
        }
        const double average = count ? sum / count : 0.0;
        const double ratio = average > 0 ? v / average : 1e9;
        if (ratio >= o.adaptive_threshold) candidates.push_back({i, "cut", v});
    }
    std::sort(candidates.begin(), candidates.end(),
              [](const ShotCut& a, const ShotCut& b) { return a.frame < b.frame; });
    // No shot shorter than the minimum, from the first lit frame on.
    double last = times[static_cast<size_t>(r.first_lit)];
    for (const auto& c : candidates) {
        if (c.frame <= r.first_lit || c.frame >= r.end_lit) continue;
        const double t = times[static_cast<size_t>(c.frame)];
        if (t - last < o.min_scene_seconds) continue;
        r.cuts.push_back(c);
        last = t;
    }
    return r;
}

}  // namespace rr::vision
