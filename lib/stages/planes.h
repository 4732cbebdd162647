#pragma once
// The layout of planar YUV frames (8- or 16-bit) as stages see it; views are in frame_views.h.

#include "core/result.h"
#include "media/av_handles.h"

namespace rr::stages {

struct YuvLayout {
    int depth = 8;           // bits per sample
    int chroma_shift_w = 1;  // log2 of horizontal chroma subsampling
    int chroma_shift_h = 1;
    int planes = 3;
    bool full_range = false;

    [[nodiscard]] int max_value() const { return (1 << depth) - 1; }
    [[nodiscard]] int neutral_chroma() const { return 1 << (depth - 1); }
    // Legal luma limits for the frame's range (16..235 scaled for limited range).
    [[nodiscard]] int luma_min() const { return full_range ? 0 : 16 << (depth - 8); }
    [[nodiscard]] int luma_max() const { return full_range ? max_value() : 235 << (depth - 8); }
};

// Fails for packed or non-YUV formats: stages that use these views take planar YUV only.
[[nodiscard]] Result<YuvLayout> yuv_layout(AVPixelFormat format, AVColorRange range);
[[nodiscard]] bool is_planar_yuv(AVPixelFormat format);

// Ensures the frame's buffers are exclusively ours before writing into them in place.
[[nodiscard]] Status make_writable(AVFrame* frame);

}  // namespace rr::stages
