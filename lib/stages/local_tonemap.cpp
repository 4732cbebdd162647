#include "stages/local_tonemap.h"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>

namespace rr::stages {

void LocalToneMap::apply(AVFrame& frame) {
    if (strength_ <= 0) return;
    constexpr float kFloor = 1.0f / 64.0f;  // keeps log() finite and noise in black unboosted
    const double lo = layout_.luma_min(), hi = layout_.luma_max();
    cv::Mat yplane = plane(&frame, 0, layout_);
    yplane.convertTo(y_, CV_32F, 1.0 / (hi - lo), -lo / (hi - lo));
    cv::min(cv::max(y_, 0.0), 1.0, y_);
    cv::log(y_ + kFloor, log_);
    log_ *= 1.0 / std::log(2.0);  // stops

    // Base layer: edge-preserving smoothing at a quarter of the size (cheap, and the base
    // holds only large-scale light anyway).
    const int sw = std::max(8, y_.cols / 4), sh = std::max(8, y_.rows / 4);
    cv::resize(log_, small_, cv::Size(sw, sh), 0, 0, cv::INTER_AREA);
    cv::bilateralFilter(small_, base_small_, 9, 0.5, std::max(2.0, sw / 100.0));
    cv::resize(base_small_, base_, y_.size(), 0, 0, cv::INTER_LINEAR);
    const double mean = cv::mean(base_)[0];
    const double compress = 1.0 - 0.45 * strength_, boost = 1.0 + 0.8 * strength_;
    // out = mean + (base - mean) * compress + (log - base) * boost
    cv::Mat out = log_ * boost + base_ * (compress - boost);
    out += mean * (1.0 - compress);
    out *= std::log(2.0);
    cv::exp(out, out);
    out -= kFloor;
    cv::min(cv::max(out, 0.0), 1.0, out);

    // Chroma: scaled by the square root of the local luma gain, limited to [0.7, 1.4].
    cv::Mat gain = (out + kFloor) / (y_ + kFloor);
    const cv::Mat cb = plane(&frame, 1, layout_);
    cv::Mat g_small;
    cv::resize(gain, g_small, cb.size(), 0, 0, cv::INTER_AREA);
    cv::sqrt(g_small, g_small);
    cv::min(cv::max(g_small, 0.7), 1.4, g_small);
    const double neutral = layout_.neutral_chroma();
    const int type = layout_.depth > 8 ? CV_16U : CV_8U;
    for (int p = 1; p < layout_.planes; ++p) {
        cv::Mat c = plane(&frame, p, layout_), cf;
        c.convertTo(cf, CV_32F, 1.0, -neutral);
        cf = cf.mul(g_small) + neutral;
        cf.convertTo(c, type);
    }
    out.convertTo(yplane, type, hi - lo, lo);
}

}  // namespace rr::stages
