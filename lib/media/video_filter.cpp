#include "media/video_filter.h"

extern "C" {
#include <libavfilter/buffersink.h>
#include <libavfilter/buffersrc.h>
#include <libavutil/pixdesc.h>
}

#include "core/logging.h"
#include "media/av_error.h"

namespace rr::media {

Result<VideoFilter> VideoFilter::create(const FrameFormat& in, const std::string& chain,
                                        AVPixelFormat out_pix_fmt, int threads) {
    VideoFilter f;
    f.chain_ = chain.empty() ? "null" : chain;
    f.graph_.reset(avfilter_graph_alloc());
    if (!f.graph_) return make_error(Errc::internal, "out of memory");
    f.graph_->nb_threads = std::max(1, threads);

    const AVRational sar = in.sample_aspect.num > 0 ? in.sample_aspect : AVRational{1, 1};
    const AVRational rate = in.frame_rate.num > 0 ? in.frame_rate : AVRational{25, 1};
    char args[512];
    snprintf(args, sizeof args,
             "video_size=%dx%d:pix_fmt=%d:time_base=%d/%d:frame_rate=%d/%d:pixel_aspect=%d/%d",
             in.width, in.height, static_cast<int>(in.pix_fmt), in.time_base.num, in.time_base.den,
             rate.num, rate.den, sar.num, sar.den);
    // FFmpeg explains a bad filter description only in its log; keep that for our error.
    CaptureFfmpegError reason;
    int ret = avfilter_graph_create_filter(&f.src_, avfilter_get_by_name("buffer"), "in", args,
                                           nullptr, f.graph_.get());
    if (ret < 0) return av::error(ret, "video filter source", Errc::internal);
    ret = avfilter_graph_create_filter(&f.sink_, avfilter_get_by_name("buffersink"), "out", nullptr,
                                       nullptr, f.graph_.get());
    if (ret < 0) return av::error(ret, "video filter sink", Errc::internal);
    std::string full = f.chain_;
    if (out_pix_fmt != AV_PIX_FMT_NONE)
        full += std::string(",format=") + av_get_pix_fmt_name(out_pix_fmt);

    AVFilterInOut* outputs = avfilter_inout_alloc();
    AVFilterInOut* inputs = avfilter_inout_alloc();
    if (!outputs || !inputs) {
        avfilter_inout_free(&outputs);
        avfilter_inout_free(&inputs);
        return make_error(Errc::internal, "out of memory");
    }
    outputs->name = av_strdup("in");
    outputs->filter_ctx = f.src_;
    inputs->name = av_strdup("out");
    inputs->filter_ctx = f.sink_;
    ret = avfilter_graph_parse_ptr(f.graph_.get(), full.c_str(), &inputs, &outputs, nullptr);
    avfilter_inout_free(&inputs);
    avfilter_inout_free(&outputs);
    if (ret >= 0) ret = avfilter_graph_config(f.graph_.get(), nullptr);
    if (ret < 0) {
        return make_error(Errc::invalid_argument,
                          "video filter '" + full + "': " +
                              (reason.last().empty() ? av::error_string(ret) : reason.last()));
    }
    return f;
}

Status VideoFilter::push(av::FramePtr frame, std::vector<av::FramePtr>& out) {
    int ret = av_buffersrc_add_frame_flags(src_, frame.get(), 0);
    if (ret < 0) return av::error(ret, "video filter '" + chain_ + "' input");
    while (true) {
        av::FramePtr f = av::make_frame();
        ret = av_buffersink_get_frame(sink_, f.get());
        if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF) return {};
        if (ret < 0) return av::error(ret, "video filter '" + chain_ + "'");
        out.push_back(std::move(f));
    }
}

}  // namespace rr::media
