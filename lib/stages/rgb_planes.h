#pragma once
// Planar Y'CbCr frames as full-resolution R'G'B' float planes (0..1, gamma-encoded, the
// frame's own matrix and range) and back. Stages that think in RGB (white balance, 3D LUTs)
// work on these. Chroma goes back as the change made to it, so colours a stage leaves alone
// come back bit-exact despite 4:2:0 subsampling.

#include <array>
#include <opencv2/core.hpp>

#include "core/result.h"
#include "media/av_handles.h"
#include "media/frame_format.h"
#include "stages/planes.h"

namespace rr::stages {

// Luma weights of a Y'CbCr matrix; green is 1 - kr - kb.
struct LumaWeights {
    double kr = 0.2126;
    double kb = 0.0722;
    [[nodiscard]] double kg() const { return 1.0 - kr - kb; }
};

// The frame's matrix; untagged pictures follow the usual convention (BT.601 up to 576 lines,
// BT.709 above).
[[nodiscard]] LumaWeights luma_weights(const media::FrameFormat& format);

using RgbPlanes = std::array<cv::Mat, 3>;  // R', G', B' as CV_32FC1

class RgbConverter {
  public:
    [[nodiscard]] static Result<RgbConverter> create(const media::FrameFormat& format);

    // Reads `frame` into `rgb` (allocated as needed). Remembers the chroma it read.
    void to_rgb(const AVFrame& frame, RgbPlanes& rgb);
    // Writes `rgb` into `frame` (made writable by the caller): luma directly, chroma as the
    // area-averaged change against what to_rgb read from this same frame.
    void to_yuv(const RgbPlanes& rgb, AVFrame& frame);
    // A reduced picture for statistics: no wider than `max_width` and no finer than the
    // chroma planes (cheap; nothing is remembered for to_yuv).
    void to_rgb_preview(const AVFrame& frame, RgbPlanes& rgb, int max_width) const;
    // Luma of R'G'B' planes with this matrix.
    void luma(const RgbPlanes& rgb, cv::Mat& y) const;

    [[nodiscard]] const LumaWeights& weights() const { return w_; }

  private:
    RgbConverter() = default;
    void combine(const cv::Mat& y, const cv::Mat& cb, const cv::Mat& cr, RgbPlanes& rgb) const;
    LumaWeights w_;
    YuvLayout layout_;
    double y_scale_ = 1, y_offset_ = 0, c_scale_ = 1, c_offset_ = 0;
    cv::Mat cb_, cr_;  // full-resolution chroma as read, -0.5..0.5
};

}  // namespace rr::stages
