#include "media/deinterlacer.h"

extern "C" {
#include <libavutil/mathematics.h>
#include <libavutil/pixdesc.h>
}

namespace rr::media {

Result<Deinterlacer> Deinterlacer::create(const FrameFormat& in, const std::string& chain,
                                          AVRational out_time_base, int threads) {
    // bwdif takes most planar formats as they are; the format filter makes sure any other one
    // comes back as it went in, which is what the converter after it expects.
    const std::string full = chain + ",format=" + av_get_pix_fmt_name(in.pix_fmt);
    RR_ASSIGN(FilterGraph graph, FilterGraph::video(in, full, threads));
    return Deinterlacer(std::move(graph), out_time_base);
}

Status Deinterlacer::push(av::FramePtr frame, std::vector<av::FramePtr>& out) {
    RR_TRY(graph_.push(frame.get()));
    while (true) {
        av::FramePtr f = av::make_frame();
        RR_ASSIGN(const bool got, graph_.pull(f.get()));
        if (!got) return {};
        // bwdif doubles its time base's resolution for the fields; both rescales are exact.
        if (f->pts != AV_NOPTS_VALUE)
            f->pts = av_rescale_q(f->pts, graph_.output_time_base(), out_tb_);
        f->interlaced_frame = 0;
        f->top_field_first = 0;
        out.push_back(std::move(f));
    }
}

}  // namespace rr::media
