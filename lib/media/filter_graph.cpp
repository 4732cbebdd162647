#include "media/filter_graph.h"

extern "C" {
#include <libavfilter/buffersink.h>
}

#include <algorithm>
#include <memory>

#include "core/logging.h"
#include "media/av_error.h"

namespace rr::media {
namespace {

struct SourceParametersDeleter {
    void operator()(AVBufferSrcParameters* p) const {
        av_channel_layout_uninit(&p->ch_layout);
        av_free(p);
    }
};
using SourceParametersPtr = std::unique_ptr<AVBufferSrcParameters, SourceParametersDeleter>;

struct InOutDeleter {
    void operator()(AVFilterInOut* io) const { avfilter_inout_free(&io); }
};
using InOutPtr = std::unique_ptr<AVFilterInOut, InOutDeleter>;

SourceParametersPtr make_parameters() {
    SourceParametersPtr p(av_buffersrc_parameters_alloc());
    if (!p) throw std::bad_alloc();
    return p;
}

// One end of the chain as avfilter_graph_parse_ptr wants it: the label and the filter behind it.
Result<InOutPtr> make_end(const char* label, AVFilterContext* filter) {
    InOutPtr io(avfilter_inout_alloc());
    if (!io) return make_error(Errc::internal, "out of memory");
    io->name = av_strdup(label);
    if (!io->name) return make_error(Errc::internal, "out of memory");
    io->filter_ctx = filter;
    io->pad_idx = 0;
    return io;
}

// FFmpeg explains most refusals only in its log; that explanation is the useful part.
Error refusal(int ret, const CaptureFfmpegError& reason, const std::string& what, Errc code) {
    return Error{code,
                 what + ": " + (reason.last().empty() ? av::error_string(ret) : reason.last())};
}

}  // namespace

Result<FilterGraph> FilterGraph::audio(const AudioSourceFormat& in, const std::string& chain,
                                       int threads) {
    if (!in.layout || in.layout->nb_channels <= 0)
        return make_error(Errc::internal, "audio filter source without channels");
    SourceParametersPtr p = make_parameters();
    p->format = in.sample_fmt;
    p->sample_rate = in.sample_rate;
    p->time_base = in.time_base;
    const int ret = av_channel_layout_copy(&p->ch_layout, in.layout);
    if (ret < 0) return av::error(ret, "audio filter source layout", Errc::internal);
    return create(AVMEDIA_TYPE_AUDIO, *p, chain.empty() ? "anull" : chain, threads);
}

Result<FilterGraph> FilterGraph::video(const FrameFormat& in, const std::string& chain,
                                       int threads) {
    SourceParametersPtr p = make_parameters();
    p->format = in.pix_fmt;
    p->width = in.width;
    p->height = in.height;
    p->time_base = in.time_base;
    p->frame_rate = in.frame_rate.num > 0 ? in.frame_rate : AVRational{25, 1};
    p->sample_aspect_ratio = in.sample_aspect.num > 0 ? in.sample_aspect : AVRational{1, 1};
    return create(AVMEDIA_TYPE_VIDEO, *p, chain.empty() ? "null" : chain, threads);
}

Result<FilterGraph> FilterGraph::create(AVMediaType type, const AVBufferSrcParameters& params,
                                        const std::string& chain, int threads) {
    const bool audio = type == AVMEDIA_TYPE_AUDIO;
    FilterGraph g;
    g.kind_ = audio ? "audio" : "video";
    g.chain_ = chain;
    const std::string kind = g.kind_;
    g.graph_.reset(avfilter_graph_alloc());
    if (!g.graph_) return make_error(Errc::internal, "out of memory");
    g.graph_->nb_threads = std::max(1, threads);

    CaptureFfmpegError reason;
    const AVFilter* source = avfilter_get_by_name(audio ? "abuffer" : "buffer");
    const AVFilter* sink = avfilter_get_by_name(audio ? "abuffersink" : "buffersink");
    if (!source || !sink) return make_error(Errc::unsupported, "libavfilter lacks buffer filters");
    g.src_ = avfilter_graph_alloc_filter(g.graph_.get(), source, "in");
    g.sink_ = avfilter_graph_alloc_filter(g.graph_.get(), sink, "out");
    if (!g.src_ || !g.sink_) return make_error(Errc::internal, "out of memory");
    int ret = av_buffersrc_parameters_set(g.src_, const_cast<AVBufferSrcParameters*>(&params));
    if (ret >= 0) ret = avfilter_init_str(g.src_, nullptr);
    if (ret < 0) return refusal(ret, reason, kind + " filter source", Errc::internal);
    ret = avfilter_init_str(g.sink_, nullptr);
    if (ret < 0) return refusal(ret, reason, kind + " filter sink", Errc::internal);

    // The chain's open input is fed by our source, its open output drains into our sink.
    RR_ASSIGN(InOutPtr outputs, make_end("in", g.src_));
    RR_ASSIGN(InOutPtr inputs, make_end("out", g.sink_));
    AVFilterInOut* in_raw = inputs.release();
    AVFilterInOut* out_raw = outputs.release();
    ret = avfilter_graph_parse_ptr(g.graph_.get(), chain.c_str(), &in_raw, &out_raw, nullptr);
    inputs.reset(in_raw);
    outputs.reset(out_raw);
    if (ret >= 0) ret = avfilter_graph_config(g.graph_.get(), nullptr);
    if (ret < 0)
        return refusal(ret, reason, kind + " filter '" + chain + "'", Errc::invalid_argument);
    return g;
}

Status FilterGraph::push(AVFrame* frame) {
    const int ret = av_buffersrc_add_frame_flags(src_, frame, 0);
    if (ret < 0) return av::error(ret, std::string(kind_) + " filter '" + chain_ + "' input");
    return {};
}

Status FilterGraph::push_ref(const AVFrame& frame) {
    const int ret = av_buffersrc_add_frame_flags(src_, const_cast<AVFrame*>(&frame),
                                                 AV_BUFFERSRC_FLAG_KEEP_REF);
    if (ret < 0) return av::error(ret, std::string(kind_) + " filter '" + chain_ + "' input");
    return {};
}

Result<bool> FilterGraph::pull(AVFrame* out) {
    const int ret = av_buffersink_get_frame(sink_, out);
    if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF) return false;
    if (ret < 0) return av::error(ret, std::string(kind_) + " filter '" + chain_ + "'");
    return true;
}

void FilterGraph::set_frame_size(unsigned samples) {
    av_buffersink_set_frame_size(sink_, samples);
}

AVRational FilterGraph::output_time_base() const {
    return av_buffersink_get_time_base(sink_);
}

int FilterGraph::output_sample_rate() const {
    return av_buffersink_get_sample_rate(sink_);
}

}  // namespace rr::media
