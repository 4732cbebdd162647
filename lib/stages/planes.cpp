#include "stages/planes.h"

extern "C" {
#include <libavutil/pixdesc.h>
}

#include "media/av_error.h"

namespace rr::stages {

bool is_planar_yuv(AVPixelFormat format) {
    const AVPixFmtDescriptor* d = av_pix_fmt_desc_get(format);
    if (!d) return false;
    const bool planar = (d->flags & AV_PIX_FMT_FLAG_PLANAR) != 0;
    const bool rgb = (d->flags & AV_PIX_FMT_FLAG_RGB) != 0;
    const bool big_endian = (d->flags & AV_PIX_FMT_FLAG_BE) != 0;
    // One sample per plane element and no semi-planar (NV12) interleaving.
    bool simple = d->nb_components >= 3;
    for (int c = 0; c < d->nb_components && simple; ++c)
        simple = d->comp[c].plane == c && d->comp[c].shift == 0;
    return planar && !rgb && !big_endian && simple && d->comp[0].depth <= 16;
}

Result<YuvLayout> yuv_layout(AVPixelFormat format, AVColorRange range) {
    if (!is_planar_yuv(format)) {
        const char* name = av_get_pix_fmt_name(format);
        return make_error(Errc::unsupported,
                          std::string("stage needs planar YUV, got ") + (name ? name : "?"));
    }
    const AVPixFmtDescriptor* d = av_pix_fmt_desc_get(format);
    YuvLayout l;
    l.depth = d->comp[0].depth;
    l.chroma_shift_w = d->log2_chroma_w;
    l.chroma_shift_h = d->log2_chroma_h;
    l.planes = d->nb_components >= 3 ? 3 : 1;
    l.full_range = range == AVCOL_RANGE_JPEG || format == AV_PIX_FMT_YUVJ420P ||
                   format == AV_PIX_FMT_YUVJ422P || format == AV_PIX_FMT_YUVJ444P;
    return l;
}

Status make_writable(AVFrame* frame) {
    int ret = av_frame_make_writable(frame);
    if (ret < 0) return av::error(ret, "frame copy", Errc::internal);
    return {};
}

}  // namespace rr::stages
