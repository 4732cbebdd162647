#pragma once
// Planar Y'CbCr frames seen as R'G'B' (0..1, gamma-encoded, the frame's own matrix and
// range). Stages that think in RGB (white balance, 3D LUTs) give a per-pixel function; it
// runs in one pass over the frame. Chroma goes back as the change made to it, so colours a
// stage leaves alone come back bit-exact despite 4:2:0 subsampling.

#include <algorithm>
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

    // Runs `fn(RgbPlanes&)` over the (writable) frame, a strip of rows at a time (small
    // enough to stay in cache, so each whole-plane OpenCV operation on it is cheap).
    template <class Fn>
    void transform(AVFrame& frame, Fn&& fn) {
        upsample_chroma(frame);
        const int rows = frame.height;
        for (int top = 0; top < rows; top += kStripRows) {
            const int end = std::min(rows, top + kStripRows);
            to_rgb_strip(frame, top, end);
            fn(rgb_);
            from_rgb_strip(frame, top, end);
        }
        apply_chroma_change(frame);
    }

    // A reduced picture for statistics: no wider than `max_width` and no finer than the
    // chroma planes.
    void to_rgb_preview(const AVFrame& frame, RgbPlanes& rgb, int max_width) const;

    [[nodiscard]] const LumaWeights& weights() const { return w_; }

  private:
    RgbConverter() = default;
    void upsample_chroma(const AVFrame& frame);
    void apply_chroma_change(AVFrame& frame);

    static constexpr int kStripRows = 16;
    void to_rgb_strip(const AVFrame& frame, int top, int end);
    void from_rgb_strip(AVFrame& frame, int top, int end);

    LumaWeights w_;
    YuvLayout layout_;
    double y_scale_ = 1, y_offset_ = 0, c_scale_ = 1, c_offset_ = 0;
    cv::Mat cb_, cr_;      // full-resolution chroma as read, -0.5..0.5
    cv::Mat d_cb_, d_cr_;  // the change the function made to it
    RgbPlanes rgb_;        // the current strip
    cv::Mat y_, tmp_;
    cv::Mat small_, current_, change_;  // per-frame scratch, kept to reuse their buffers
};

}  // namespace rr::stages
