#pragma once
// The one way stages see frames as matrices and make new frames: OpenCV headers over a
// frame's own memory (no copy), and frames allocated from a pool shaped like another.
// A view is valid while the frame is; writing through a view writes the frame, so a stage
// makes the frame writable (make_writable) before it edits one in place.

#include <opencv2/core.hpp>

#include "media/av_handles.h"
#include "media/frame_format.h"
#include "media/frame_pool.h"
#include "stages/planes.h"

namespace rr::stages {

// Plane `index` of a planar YUV frame: CV_8UC1, or CV_16UC1 above 8 bits.
[[nodiscard]] cv::Mat plane(AVFrame& frame, int index, const YuvLayout& layout);
// The same for reading (analyzers get frames they must not change).
[[nodiscard]] const cv::Mat plane(const AVFrame& frame, int index, const YuvLayout& layout);

// Luma on the 8-bit scale: the plane itself for 8-bit frames, else scaled into `scratch`.
[[nodiscard]] cv::Mat luma8(const AVFrame& frame, const YuvLayout& layout, cv::Mat& scratch);

// Plane `index` of a float planar frame (gbrpf32: G, B, R) as CV_32FC1.
[[nodiscard]] cv::Mat float_plane(AVFrame& frame, int index);

// The packed picture of an RGB24/BGR24 (CV_8UC3) or RGB48/BGR48 (CV_16UC3) frame.
[[nodiscard]] cv::Mat packed_view(AVFrame& frame);
[[nodiscard]] const cv::Mat packed_view(const AVFrame& frame);

// `like` as a packed full-range picture of `width` x `height` in `packed` (what swscale
// converts a YUV frame to for OpenCV and the networks).
[[nodiscard]] media::FrameFormat packed_format(const media::FrameFormat& like, int width,
                                               int height, AVPixelFormat packed);

using media::frame_like;
using media::FramePool;

}  // namespace rr::stages
