#include "media/frame_format.h"

extern "C" {
#include <libavutil/frame.h>
#include <libavutil/pixdesc.h>
}

namespace rr::media {

std::string FrameFormat::describe() const {
    const char* fmt = av_get_pix_fmt_name(pix_fmt);
    const char* mat = av_color_space_name(matrix);
    const char* rng = av_color_range_name(range);
    return std::to_string(width) + "x" + std::to_string(height) + " " + (fmt ? fmt : "?") + " " +
           (mat ? mat : "?") + "/" + (rng ? rng : "?");
}

int FrameFormat::bit_depth() const {
    const AVPixFmtDescriptor* d = av_pix_fmt_desc_get(pix_fmt);
    return d ? d->comp[0].depth : 8;
}

void FrameFormat::tag(AVFrame* frame) const {
    frame->color_primaries = primaries;
    frame->color_trc = transfer;
    frame->colorspace = matrix;
    frame->color_range = range;
    frame->sample_aspect_ratio = sample_aspect;
}

}  // namespace rr::media
