#include "media/frame_converter.h"

extern "C" {
#include <libavutil/pixdesc.h>
}

#include "media/av_error.h"

namespace rr::media {
namespace {

int sws_matrix(AVColorSpace space) {
    switch (space) {
        case AVCOL_SPC_BT709:
            return SWS_CS_ITU709;
        case AVCOL_SPC_FCC:
            return SWS_CS_FCC;
        case AVCOL_SPC_SMPTE240M:
            return SWS_CS_SMPTE240M;
        case AVCOL_SPC_BT2020_NCL:
        case AVCOL_SPC_BT2020_CL:
            return SWS_CS_BT2020;
        case AVCOL_SPC_BT470BG:
        case AVCOL_SPC_SMPTE170M:
            return SWS_CS_ITU601;
        default:
            return SWS_CS_DEFAULT;
    }
}

bool is_rgb(AVPixelFormat f) {
    const AVPixFmtDescriptor* d = av_pix_fmt_desc_get(f);
    return d && (d->flags & AV_PIX_FMT_FLAG_RGB);
}

}  // namespace

Result<FrameConverter> FrameConverter::create(const FrameFormat& from_in, const FrameFormat& to,
                                              bool crop, int flags) {
    FrameConverter c;
    FrameFormat from = from_in;
    if (crop) {
        c.crop_right_ = from.width - to.width;
        c.crop_bottom_ = from.height - to.height;
        if (c.crop_right_ < 0 || c.crop_right_ > 1 || c.crop_bottom_ < 0 || c.crop_bottom_ > 1) {
            return make_error(Errc::internal, "crop larger than one pixel requested");
        }
        from.width = to.width;
        from.height = to.height;
    }
    // The yuvj* formats are yuv* with full range; naming them so keeps swscale from
    // warning about a "deprecated pixel format" on every job from a camera.
    switch (from.pix_fmt) {
        case AV_PIX_FMT_YUVJ420P:
            from.pix_fmt = AV_PIX_FMT_YUV420P;
            from.range = AVCOL_RANGE_JPEG;
            break;
        case AV_PIX_FMT_YUVJ422P:
            from.pix_fmt = AV_PIX_FMT_YUV422P;
            from.range = AVCOL_RANGE_JPEG;
            break;
        case AV_PIX_FMT_YUVJ444P:
            from.pix_fmt = AV_PIX_FMT_YUV444P;
            from.range = AVCOL_RANGE_JPEG;
            break;
        default:
            break;
    }
    c.from_ = from;
    c.to_ = to;
    const bool same = from.width == to.width && from.height == to.height &&
                      from.pix_fmt == to.pix_fmt &&
                      (from.range == to.range || from.range == AVCOL_RANGE_UNSPECIFIED);
    if (same) return c;
    if (!flags) flags = SWS_BICUBIC;
    // Full chroma accuracy: the default fast path shifts chroma by half a pixel on down-conversion.
    flags |= SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT | SWS_FULL_CHR_H_INP;
    c.sws_.reset(sws_getContext(from.width, from.height, from.pix_fmt, to.width, to.height,
                                to.pix_fmt, flags, nullptr, nullptr, nullptr));
    if (!c.sws_) {
        return make_error(Errc::unsupported,
                          "cannot convert " + from.describe() + " to " + to.describe());
    }
    const int src_full = from.range == AVCOL_RANGE_JPEG || is_rgb(from.pix_fmt) ? 1 : 0;
    const int dst_full = to.range == AVCOL_RANGE_JPEG || is_rgb(to.pix_fmt) ? 1 : 0;
    const int* src_coeffs = sws_getCoefficients(sws_matrix(from.matrix));
    const int* dst_coeffs = sws_getCoefficients(
        sws_matrix(to.matrix != AVCOL_SPC_UNSPECIFIED ? to.matrix : from.matrix));
    sws_setColorspaceDetails(c.sws_.get(), src_coeffs, src_full, dst_coeffs, dst_full, 0, 1 << 16,
                             1 << 16);
    RR_ASSIGN(auto pool, FramePool::create(to.width, to.height, to.pix_fmt));
    c.pool_.emplace(std::move(pool));
    return c;
}

Result<av::FramePtr> FrameConverter::convert(av::FramePtr in) {
    if (crop_right_ || crop_bottom_) {
        // Right/bottom cropping only shrinks the visible size; no pixel moves.
        in->width -= crop_right_;
        in->height -= crop_bottom_;
    }
    if (!sws_) {
        to_.tag(in.get());
        return in;
    }
    RR_ASSIGN(auto out, frame_from(*in, *pool_));
    RR_TRY(convert_into(*in, out->data, out->linesize));
    to_.tag(out.get());
    return out;
}

Status FrameConverter::convert_into(const AVFrame& in, uint8_t* const planes[],
                                    const int strides[]) {
    if (!sws_) return make_error(Errc::internal, "convert_into needs a scaling converter");
    const int ret = sws_scale(sws_.get(), in.data, in.linesize, 0, from_.height, planes, strides);
    if (ret < 0) return av::error(ret, "pixel conversion", Errc::internal);
    return {};
}

}  // namespace rr::media
