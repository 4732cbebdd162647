#include "stages/local_tonemap.h"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>

#include "stages/frame_views.h"

namespace rr::stages {

// out = mean + (base - mean) * compress + (log(y) - base) * boost, in log2 space, which
// factors into (y + f)^boost (a per-code table) times 2^((compress - boost) * base + c), a
// smooth field computed at a quarter of the size. Full-resolution work is one multiply.
void LocalToneMap::apply(AVFrame& frame) {
    if (strength_ <= 0) return;
    constexpr double kFloor = 1.0 / 64.0;  // keeps log() finite and black's noise unboosted
    const double lo = layout_.luma_min(), hi = layout_.luma_max();
    const double compress = 1.0 - 0.45 * strength_, boost = 1.0 + 0.8 * strength_;
    const int codes = layout_.max_value() + 1;
    if (power_.empty()) {
        // Each code's normalised luma raised to `boost` (the detail term), and its log2.
        power_.create(1, codes, CV_32F);
        log_code_.create(1, codes, CV_32F);
        level_.create(1, codes, CV_32F);
        for (int v = 0; v < codes; ++v) {
            const double y = std::clamp((v - lo) / (hi - lo), 0.0, 1.0) + kFloor;
            power_.at<float>(v) = static_cast<float>(std::pow(y, boost));
            log_code_.at<float>(v) = static_cast<float>(std::log2(y));
            level_.at<float>(v) = static_cast<float>(y);
        }
    }
    cv::Mat yplane = plane(frame, 0, layout_);

    // Base layer: edge-preserving smoothing of log luma at a quarter of the size (the base
    // holds only large-scale light).
    const int sw = std::max(8, yplane.cols / 4), sh = std::max(8, yplane.rows / 4);
    cv::resize(yplane, small_, cv::Size(sw, sh), 0, 0, cv::INTER_AREA);
    log_.create(small_.size(), CV_32F);
    for (int r = 0; r < small_.rows; ++r) {
        float* out = log_.ptr<float>(r);
        for (int c = 0; c < small_.cols; ++c) {
            const int v =
                small_.depth() == CV_16U ? small_.at<uint16_t>(r, c) : small_.at<uint8_t>(r, c);
            out[c] = log_code_.at<float>(std::min(v, codes - 1));
        }
    }
    cv::bilateralFilter(log_, base_small_, 9, 0.5, std::max(2.0, sw / 100.0));
    const double mean = cv::mean(base_small_)[0];
    // The smooth field 2^((compress - boost) * base + mean * (1 - compress)).
    cv::Mat field_small;
    base_small_.convertTo(field_small, CV_32F, (compress - boost) * std::log(2.0),
                          mean * (1.0 - compress) * std::log(2.0));
    cv::exp(field_small, field_small);
    cv::resize(field_small, field_, yplane.size(), 0, 0, cv::INTER_LINEAR);

    // Luma: (y + f)^boost * field - f, back to codes; the gain per pixel is kept for chroma.
    gain_.create(yplane.size(), CV_32F);
    const float scale = static_cast<float>(hi - lo), offset = static_cast<float>(lo);
    const float top = static_cast<float>(layout_.max_value());
    const float* table = power_.ptr<float>();
    const float* level = level_.ptr<float>();
    for (int r = 0; r < yplane.rows; ++r) {
        const float* f = field_.ptr<float>(r);
        float* g = gain_.ptr<float>(r);
        auto row = [&](auto* p) {
            for (int c = 0; c < yplane.cols; ++c) {
                const int v = std::min<int>(p[c], codes - 1);
                const float out =
                    std::clamp(table[v] * f[c] - static_cast<float>(kFloor), 0.0f, 1.0f);
                g[c] = (out + static_cast<float>(kFloor)) / level[v];
                p[c] = static_cast<std::remove_reference_t<decltype(*p)>>(
                    std::min(top, out * scale + offset + 0.5f));
            }
        };
        if (layout_.depth > 8)
            row(yplane.ptr<uint16_t>(r));
        else
            row(yplane.ptr<uint8_t>(r));
    }

    // Chroma: scaled by the square root of the local luma gain, limited to [0.7, 1.4], so
    // colours keep their saturation where light was lifted or lowered.
    const cv::Mat cb = plane(frame, 1, layout_);
    cv::Mat g_small;
    cv::resize(gain_, g_small, cb.size(), 0, 0, cv::INTER_AREA);
    cv::sqrt(g_small, g_small);
    cv::min(cv::max(g_small, 0.7), 1.4, g_small);
    const double neutral = layout_.neutral_chroma();
    const int type = layout_.depth > 8 ? CV_16U : CV_8U;
    for (int p = 1; p < layout_.planes; ++p) {
        cv::Mat c = plane(frame, p, layout_), cf;
        c.convertTo(cf, CV_32F, 1.0, -neutral);
        cf = cf.mul(g_small) + neutral;
        cf.convertTo(c, type);
    }
}

}  // namespace rr::stages
