#include "stages/color_stats.h"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>

namespace rr::stages {

void ColorStats::add(const RgbPlanes& rgb) {
    for (int c = 0; c < 3; ++c) {
        auto& h = hist_[static_cast<size_t>(c)];
        if (h.empty()) h.assign(kBins, 0);
        mean_sum_[static_cast<size_t>(c)] += cv::mean(rgb[static_cast<size_t>(c)])[0];
        for (int r = 0; r < rgb[c].rows; ++r) {
            const float* p = rgb[static_cast<size_t>(c)].ptr<float>(r);
            for (int x = 0; x < rgb[c].cols; ++x) {
                const int bin = static_cast<int>(std::clamp(p[x], 0.0f, 1.0f) * (kBins - 1) + 0.5f);
                ++h[static_cast<size_t>(bin)];
            }
        }
    }
    ++frames_;
}

void ColorStats::merge(const ColorStats& other) {
    frames_ += other.frames_;
    for (size_t c = 0; c < 3; ++c) {
        mean_sum_[c] += other.mean_sum_[c];
        if (other.hist_[c].empty()) continue;
        if (hist_[c].empty()) hist_[c].assign(kBins, 0);
        for (size_t i = 0; i < kBins; ++i) hist_[c][i] += other.hist_[c][i];
    }
}

nlohmann::json ColorStats::to_json() const {
    return {{"frames", frames_}, {"mean_sum", mean_sum_}, {"hist", hist_}};
}

ColorStats ColorStats::from_json(const nlohmann::json& j) {
    ColorStats s;
    if (!j.is_object()) return s;
    s.frames_ = j.value("frames", int64_t{0});
    s.mean_sum_ = j.at("mean_sum").get<std::array<double, 3>>();
    s.hist_ = j.at("hist").get<std::array<std::vector<int64_t>, 3>>();
    return s;
}

std::array<double, 3> ColorStats::means() const {
    std::array<double, 3> m{0.5, 0.5, 0.5};
    if (!frames_) return m;
    for (size_t c = 0; c < 3; ++c) m[c] = mean_sum_[c] / static_cast<double>(frames_);
    return m;
}

double ColorStats::percentile(int c, double fraction) const {
    const auto& h = hist_[static_cast<size_t>(c)];
    int64_t total = 0;
    for (int64_t v : h) total += v;
    if (!total) return fraction < 0.5 ? 0.0 : 1.0;
    const double want = fraction * static_cast<double>(total);
    int64_t seen = 0;
    for (size_t i = 0; i < h.size(); ++i) {
        seen += h[i];
        if (static_cast<double>(seen) >= want) return static_cast<double>(i) / (kBins - 1);
    }
    return 1.0;
}

double ColorStats::clipped_mean(int c, double gain) const {
    const auto& h = hist_[static_cast<size_t>(c)];
    double sum = 0;
    int64_t total = 0;
    for (size_t i = 0; i < h.size(); ++i) {
        sum +=
            static_cast<double>(h[i]) * std::min(1.0, gain * static_cast<double>(i) / (kBins - 1));
        total += h[i];
    }
    return total ? sum / static_cast<double>(total) : 0.0;
}

std::array<double, 3> grey_world_gains(const ColorStats& stats) {
    constexpr double kMin = 0.5, kMax = 2.0;
    std::array<double, 3> g{1, 1, 1};
    if (!stats.frames()) return g;
    double grey = 0;
    for (int c = 0; c < 3; ++c) grey += stats.clipped_mean(c, 1.0) / 3.0;
    for (int c = 0; c < 3; ++c) grey = std::min(grey, stats.clipped_mean(c, kMax));
    for (int c = 0; c < 3; ++c) {
        // The clipped mean grows with the gain: bisect for the gain that reaches `grey`.
        double lo = kMin, hi = kMax;
        if (stats.clipped_mean(c, lo) >= grey) {
            g[static_cast<size_t>(c)] = lo;
            continue;
        }
        for (int i = 0; i < 40; ++i) {
            const double mid = (lo + hi) / 2;
            (stats.clipped_mean(c, mid) < grey ? lo : hi) = mid;
        }
        g[static_cast<size_t>(c)] = (lo + hi) / 2;
    }
    return g;
}

Levels auto_levels(const ColorStats& stats, const std::array<double, 3>& gains) {
    Levels l{1.0, 0.0};
    for (int c = 0; c < 3; ++c) {
        l.black = std::min(l.black, gains[static_cast<size_t>(c)] * stats.percentile(c, 0.005));
        l.white = std::max(l.white, gains[static_cast<size_t>(c)] * stats.percentile(c, 0.995));
    }
    l.black = std::clamp(l.black, 0.0, 1.0);
    l.white = std::clamp(l.white, l.black, 1.0);
    // Flat pictures (fades, title cards) would be stretched absurdly; 3x is plenty.
    constexpr double kMinSpan = 1.0 / 3.0;
    if (l.white - l.black < kMinSpan) {
        const double mid = (l.white + l.black) / 2.0;
        l.black = std::max(0.0, mid - kMinSpan / 2.0);
        l.white = l.black + kMinSpan;
    }
    return l;
}

}  // namespace rr::stages
