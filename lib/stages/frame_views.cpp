#include "stages/frame_views.h"

namespace rr::stages {

cv::Mat plane(AVFrame& frame, int index, const YuvLayout& layout) {
    int w = frame.width, h = frame.height;
    if (index > 0) {
        w = AV_CEIL_RSHIFT(w, layout.chroma_shift_w);
        h = AV_CEIL_RSHIFT(h, layout.chroma_shift_h);
    }
    const int type = layout.depth > 8 ? CV_16UC1 : CV_8UC1;
    return cv::Mat(h, w, type, frame.data[index], static_cast<size_t>(frame.linesize[index]));
}

const cv::Mat plane(const AVFrame& frame, int index, const YuvLayout& layout) {
    // cv::Mat has no read-only header; the const return is the promise.
    return plane(const_cast<AVFrame&>(frame), index, layout);
}

cv::Mat luma8(const AVFrame& frame, const YuvLayout& layout, cv::Mat& scratch) {
    const cv::Mat y = plane(frame, 0, layout);
    if (layout.depth <= 8) return y;
    y.convertTo(scratch, CV_8U, 1.0 / (1 << (layout.depth - 8)));
    return scratch;
}

cv::Mat float_plane(AVFrame& frame, int index) {
    return cv::Mat(frame.height, frame.width, CV_32FC1, frame.data[index],
                   static_cast<size_t>(frame.linesize[index]));
}

cv::Mat packed_view(AVFrame& frame) {
    const bool deep = frame.format == AV_PIX_FMT_RGB48LE || frame.format == AV_PIX_FMT_BGR48LE;
    return cv::Mat(frame.height, frame.width, deep ? CV_16UC3 : CV_8UC3, frame.data[0],
                   static_cast<size_t>(frame.linesize[0]));
}

const cv::Mat packed_view(const AVFrame& frame) {
    return packed_view(const_cast<AVFrame&>(frame));
}

media::FrameFormat packed_format(const media::FrameFormat& like, int width, int height,
                                 AVPixelFormat packed) {
    media::FrameFormat f = like;
    f.width = width;
    f.height = height;
    f.pix_fmt = packed;
    f.range = AVCOL_RANGE_JPEG;
    return f;
}

}  // namespace rr::stages
