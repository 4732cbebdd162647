#pragma once
// Synthetic frames and pixel statistics for stage tests.

#include <opencv2/core.hpp>

#include "media/av_handles.h"
#include "media/frame_format.h"
#include "stages/stage.h"

namespace rr::test {

[[nodiscard]] media::FrameFormat yuv420_format(int w, int h);
// A yuv420p frame with luma `y` (or a horizontal gradient when y < 0) and chroma u, v.
[[nodiscard]] av::FramePtr make_yuv420(int w, int h, int y, int u, int v);
// Random-textured luma (deterministic).
[[nodiscard]] av::FramePtr make_textured(int w, int h, unsigned seed);
[[nodiscard]] cv::Mat plane_copy(const AVFrame& f, int plane);
[[nodiscard]] double plane_mean(const AVFrame& f, int plane);
[[nodiscard]] double plane_stddev(const AVFrame& f, int plane);

// A yuv420p frame (BT.709, limited range) holding the RGB picture `rgb` (CV_8UC3, RGB order),
// and back. Sizes must be even.
[[nodiscard]] av::FramePtr yuv420_from_rgb(const cv::Mat& rgb);
[[nodiscard]] cv::Mat rgb_from_yuv420(const AVFrame& frame);

// Configures `stage` for `format`, runs one frame through a fresh chunk instance.
[[nodiscard]] av::FramePtr run_one(stages::Stage& stage, const media::FrameFormat& format,
                                   av::FramePtr in);

}  // namespace rr::test
