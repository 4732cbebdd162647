#include "stages/rgb_planes.h"

#include <opencv2/imgproc.hpp>

namespace rr::stages {

LumaWeights luma_weights(const media::FrameFormat& format) {
    switch (format.matrix) {
        case AVCOL_SPC_BT709:
            return {0.2126, 0.0722};
        case AVCOL_SPC_BT2020_NCL:
        case AVCOL_SPC_BT2020_CL:
            return {0.2627, 0.0593};
        case AVCOL_SPC_BT470BG:
        case AVCOL_SPC_SMPTE170M:
            return {0.299, 0.114};
        case AVCOL_SPC_SMPTE240M:
            return {0.212, 0.087};
        case AVCOL_SPC_FCC:
            return {0.30, 0.11};
        default:
            return format.height > 576 ? LumaWeights{0.2126, 0.0722} : LumaWeights{0.299, 0.114};
    }
}

Result<RgbConverter> RgbConverter::create(const media::FrameFormat& format) {
    RgbConverter c;
    RR_ASSIGN(c.layout_, yuv_layout(format.pix_fmt, format.range));
    if (c.layout_.planes < 3) return make_error(Errc::unsupported, "needs colour (3 planes)");
    c.w_ = luma_weights(format);
    const double s = static_cast<double>(1 << (c.layout_.depth - 8));
    if (c.layout_.full_range) {
        c.y_scale_ = c.c_scale_ = c.layout_.max_value();
        c.y_offset_ = 0;
    } else {
        c.y_scale_ = 219.0 * s;
        c.y_offset_ = 16.0 * s;
        c.c_scale_ = 224.0 * s;
    }
    c.c_offset_ = c.layout_.neutral_chroma();
    return c;
}

void RgbConverter::to_rgb(const AVFrame& frame, RgbPlanes& rgb) {
    auto* f = const_cast<AVFrame*>(&frame);  // read only: plane() builds headers, no writes
    const cv::Mat y8 = plane(f, 0, layout_);
    cv::Mat y;
    y8.convertTo(y, CV_32F, 1.0 / y_scale_, -y_offset_ / y_scale_);
    const cv::Size full = y.size();
    auto chroma = [&](int index, cv::Mat& out) {
        cv::Mat small;
        plane(f, index, layout_).convertTo(small, CV_32F, 1.0 / c_scale_, -c_offset_ / c_scale_);
        if (small.size() == full)
            out = small;
        else
            cv::resize(small, out, full, 0, 0, cv::INTER_LINEAR);
    };
    chroma(1, cb_);
    chroma(2, cr_);
    combine(y, cb_, cr_, rgb);
}

void RgbConverter::combine(const cv::Mat& y, const cv::Mat& cb, const cv::Mat& cr,
                           RgbPlanes& rgb) const {
    const double kr = w_.kr, kb = w_.kb, kg = w_.kg();
    // R' = Y' + 2(1-kr)Cr, B' = Y' + 2(1-kb)Cb, G' from the luma equation.
    cv::scaleAdd(cr, 2.0 * (1.0 - kr), y, rgb[0]);
    cv::scaleAdd(cb, 2.0 * (1.0 - kb), y, rgb[2]);
    cv::Mat g = y - kr * rgb[0] - kb * rgb[2];
    g.convertTo(rgb[1], CV_32F, 1.0 / kg);
}

void RgbConverter::to_rgb_preview(const AVFrame& frame, RgbPlanes& rgb, int max_width) const {
    auto* f = const_cast<AVFrame*>(&frame);  // read only
    const cv::Mat cb8 = plane(f, 1, layout_);
    cv::Size size = cb8.size();
    if (size.width > max_width) {
        size = cv::Size(max_width, std::max(1, size.height * max_width / size.width));
    }
    auto reduce = [&](int index, double scale, double offset) {
        cv::Mat small, out;
        const cv::Mat src = plane(f, index, layout_);
        if (src.size() == size)
            small = src;
        else
            cv::resize(src, small, size, 0, 0, cv::INTER_AREA);
        small.convertTo(out, CV_32F, 1.0 / scale, -offset / scale);
        return out;
    };
    combine(reduce(0, y_scale_, y_offset_), reduce(1, c_scale_, c_offset_),
            reduce(2, c_scale_, c_offset_), rgb);
}

void RgbConverter::luma(const RgbPlanes& rgb, cv::Mat& y) const {
    y = w_.kr * rgb[0] + w_.kg() * rgb[1] + w_.kb * rgb[2];
}

void RgbConverter::to_yuv(const RgbPlanes& rgb, AVFrame& frame) {
    cv::Mat y;
    luma(rgb, y);
    const int type = layout_.depth > 8 ? CV_16U : CV_8U;
    // Round-to-nearest with saturation to the sample range (super-whites survive). The
    // destination header has the frame's size and type, so OpenCV writes in place.
    cv::Mat dst_y = plane(&frame, 0, layout_);
    y.convertTo(dst_y, type, y_scale_, y_offset_);
    auto chroma = [&](int index, const cv::Mat& colour, double k, const cv::Mat& before) {
        cv::Mat c = (colour - y) * (1.0 / (2.0 * (1.0 - k))) - before;  // change, full size
        cv::Mat dst = plane(&frame, index, layout_);
        cv::Mat change = c;
        if (c.size() != dst.size()) cv::resize(c, change, dst.size(), 0, 0, cv::INTER_AREA);
        cv::Mat current;
        dst.convertTo(current, CV_32F);
        current += change * c_scale_;
        current.convertTo(dst, type);
    };
    chroma(1, rgb[2], w_.kb, cb_);
    chroma(2, rgb[0], w_.kr, cr_);
}

}  // namespace rr::stages
