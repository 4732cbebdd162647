#include "media/video_filter.h"

extern "C" {
#include <libavutil/pixdesc.h>
}

namespace rr::media {

Result<VideoFilter> VideoFilter::create(const FrameFormat& in, const std::string& chain,
                                        AVPixelFormat out_pix_fmt, int threads) {
    std::string full = chain.empty() ? "null" : chain;
    if (out_pix_fmt != AV_PIX_FMT_NONE)
        full += std::string(",format=") + av_get_pix_fmt_name(out_pix_fmt);
    RR_ASSIGN(FilterGraph graph, FilterGraph::video(in, full, threads));
    return VideoFilter(std::move(graph));
}

Status VideoFilter::push(av::FramePtr frame, std::vector<av::FramePtr>& out) {
    RR_TRY(graph_.push(frame.get()));
    while (true) {
        av::FramePtr f = av::make_frame();
        RR_ASSIGN(const bool got, graph_.pull(f.get()));
        if (!got) return {};
        out.push_back(std::move(f));
    }
}

}  // namespace rr::media
