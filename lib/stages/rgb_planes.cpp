#include "stages/rgb_planes.h"

#include <opencv2/imgproc.hpp>

#include "stages/frame_views.h"

namespace rr::stages {
namespace {

// R' = Y' + 2(1-kr)Cr, B' = Y' + 2(1-kb)Cb, G' from the luma equation (all float planes).
void ycbcr_to_rgb(const cv::Mat& y, const cv::Mat& cb, const cv::Mat& cr, const LumaWeights& w,
                  RgbPlanes& rgb) {
    const double kr = w.kr, kb = w.kb, kg = w.kg();
    cv::scaleAdd(cr, 2.0 * (1.0 - kr), y, rgb[0]);
    cv::scaleAdd(cb, 2.0 * (1.0 - kb), y, rgb[2]);
    cv::addWeighted(rgb[0], -kr / kg, rgb[2], -kb / kg, 0.0, rgb[1]);
    cv::scaleAdd(y, 1.0 / kg, rgb[1], rgb[1]);
}

}  // namespace

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

void RgbConverter::upsample_chroma(const AVFrame& frame) {
    const cv::Size full(frame.width, frame.height);
    auto chroma = [&](int index, cv::Mat& out) {
        const cv::Mat src = plane(frame, index, layout_);
        const bool subsampled = src.size() != full;
        src.convertTo(subsampled ? small_ : out, CV_32F, 1.0 / c_scale_, -c_offset_ / c_scale_);
        if (subsampled) cv::resize(small_, out, full, 0, 0, cv::INTER_LINEAR);
    };
    chroma(1, cb_);
    chroma(2, cr_);
    d_cb_.create(full, CV_32F);
    d_cr_.create(full, CV_32F);
}

void RgbConverter::to_rgb_strip(const AVFrame& frame, int top, int end) {
    const cv::Mat y = plane(frame, 0, layout_).rowRange(top, end);
    y.convertTo(y_, CV_32F, 1.0 / y_scale_, -y_offset_ / y_scale_);
    ycbcr_to_rgb(y_, cb_.rowRange(top, end), cr_.rowRange(top, end), w_, rgb_);
}

void RgbConverter::from_rgb_strip(AVFrame& frame, int top, int end) {
    const double kr = w_.kr, kb = w_.kb, kg = w_.kg();
    cv::addWeighted(rgb_[0], kr, rgb_[1], kg, 0.0, y_);
    cv::scaleAdd(rgb_[2], kb, y_, y_);
    // Chroma: what the function made of it, less what was there (full resolution).
    cv::Mat dcb = d_cb_.rowRange(top, end), dcr = d_cr_.rowRange(top, end);
    cv::subtract(rgb_[2], y_, tmp_);
    cv::addWeighted(tmp_, 1.0 / (2.0 * (1.0 - kb)), cb_.rowRange(top, end), -1.0, 0.0, dcb);
    cv::subtract(rgb_[0], y_, tmp_);
    cv::addWeighted(tmp_, 1.0 / (2.0 * (1.0 - kr)), cr_.rowRange(top, end), -1.0, 0.0, dcr);
    // Luma: rounded and saturated to the sample range (super-whites survive). The header
    // has the frame's size and type, so OpenCV writes into the frame.
    cv::Mat y = plane(frame, 0, layout_).rowRange(top, end);
    const double ceiling = (layout_.max_value() - y_offset_) / y_scale_;
    cv::min(y_, ceiling, y_);
    y_.convertTo(y, y.type(), y_scale_, y_offset_);
}

void RgbConverter::apply_chroma_change(AVFrame& frame) {
    const int type = layout_.depth > 8 ? CV_16U : CV_8U;
    auto apply = [&](int index, const cv::Mat& change_full) {
        cv::Mat dst = plane(frame, index, layout_);
        const bool subsampled = change_full.size() != dst.size();
        if (subsampled) cv::resize(change_full, change_, dst.size(), 0, 0, cv::INTER_AREA);
        dst.convertTo(current_, CV_32F);
        cv::scaleAdd(subsampled ? change_ : change_full, c_scale_, current_, current_);
        current_.convertTo(dst, type);  // rounds and saturates; dst keeps the frame's buffer
    };
    apply(1, d_cb_);
    apply(2, d_cr_);
}

void RgbConverter::to_rgb_preview(const AVFrame& frame, RgbPlanes& rgb, int max_width) const {
    const cv::Mat cb8 = plane(frame, 1, layout_);
    cv::Size size = cb8.size();
    if (size.width > max_width) {
        size = cv::Size(max_width, std::max(1, size.height * max_width / size.width));
    }
    auto reduce = [&](int index, double scale, double offset) {
        cv::Mat small, out;
        const cv::Mat src = plane(frame, index, layout_);
        if (src.size() == size)
            small = src;
        else
            cv::resize(src, small, size, 0, 0, cv::INTER_AREA);
        small.convertTo(out, CV_32F, 1.0 / scale, -offset / scale);
        return out;
    };
    ycbcr_to_rgb(reduce(0, y_scale_, y_offset_), reduce(1, c_scale_, c_offset_),
                 reduce(2, c_scale_, c_offset_), w_, rgb);
}

}  // namespace rr::stages
