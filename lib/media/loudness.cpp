#include "media/loudness.h"

extern "C" {
#include <libavfilter/buffersink.h>
#include <libavfilter/buffersrc.h>
#include <libavutil/channel_layout.h>
}

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/logging.h"
#include "media/av_error.h"
#include "media/decoder.h"
#include "media/demuxer.h"

namespace rr::media {
namespace {

double round2(double v) {
    return std::round(v * 100.0) / 100.0;
}

// Collects what ebur128 attaches to the frames it passes on.
struct Collector {
    Loudness result;
    std::vector<double> momentary;  // one 400 ms block every 100 ms, LUFS

    void take(const AVFrame& f) {
        auto value = [&](const char* key, double& out) {
            if (const AVDictionaryEntry* e = av_dict_get(f.metadata, key, nullptr, 0))
                out = std::strtod(e->value, nullptr);
        };
        double m = NAN;
        value("lavfi.r128.M", m);
        if (!std::isnan(m)) momentary.push_back(m);
        value("lavfi.r128.I", result.integrated);
        value("lavfi.r128.LRA", result.lra);
        double peak = NAN;
        value("lavfi.r128.true_peak", peak);  // linear, the maximum so far
        if (!std::isnan(peak)) result.true_peak = peak > 0 ? 20.0 * std::log10(peak) : -99.0;
    }

    // BS.1770's relative gate: the energy mean of blocks above the absolute gate (-70 LUFS),
    // less 10 LU. ebur128 logs it but does not attach it; loudnorm wants it as measured_thresh.
    double relative_threshold() const {
        double sum = 0;
        size_t n = 0;
        for (double m : momentary) {
            if (m < -70.0) continue;
            sum += std::pow(10.0, m / 10.0);
            ++n;
        }
        return n ? 10.0 * std::log10(sum / static_cast<double>(n)) - 10.0 : -70.0;
    }

    double quiet_level() const {
        std::vector<double> v;
        for (double m : momentary)
            if (m >= -70.0) v.push_back(m);
        if (v.empty()) return -70.0;
        const size_t k = v.size() / 10;
        std::nth_element(v.begin(), v.begin() + static_cast<long>(k), v.end());
        return v[k];
    }
};

}  // namespace

nlohmann::json Loudness::to_json() const {
    return {{"integrated_lufs", round2(integrated)},
            {"true_peak_dbtp", round2(true_peak)},
            {"lra_lu", round2(lra)}};
}

Result<Loudness> measure_loudness(const MappedFile& file, int stream, const std::string& filter,
                                  std::stop_token stop) {
    RR_ASSIGN(Demuxer demuxer, Demuxer::open(file, true));
    if (stream < 0 || stream >= static_cast<int>(demuxer.format()->nb_streams))
        return make_error(Errc::internal, "no audio stream " + std::to_string(stream));
    demuxer.keep_only({stream});
    const AVStream* st = demuxer.stream(stream);
    RR_ASSIGN(Decoder decoder, Decoder::open(st, 1));
    const AVCodecContext* d = decoder.context();

    av::FilterGraphPtr graph(avfilter_graph_alloc());
    if (!graph) return make_error(Errc::internal, "out of memory");
    graph->nb_threads = 1;
    AVChannelLayout ch = {};
    av_channel_layout_copy(&ch, &d->ch_layout);
    if (ch.order == AV_CHANNEL_ORDER_UNSPEC) av_channel_layout_default(&ch, ch.nb_channels);
    char layout[256] = {};
    av_channel_layout_describe(&ch, layout, sizeof layout);
    av_channel_layout_uninit(&ch);
    char args[512];
    snprintf(args, sizeof args, "time_base=%d/%d:sample_rate=%d:sample_fmt=%s:channel_layout=%s",
             st->time_base.num, st->time_base.den, d->sample_rate,
             av_get_sample_fmt_name(d->sample_fmt), layout);
    AVFilterContext* src = nullptr;
    AVFilterContext* sink = nullptr;
    CaptureFfmpegError reason;
    int ret = avfilter_graph_create_filter(&src, avfilter_get_by_name("abuffer"), "in", args,
                                           nullptr, graph.get());
    if (ret < 0) return av::error(ret, "audio measurement source", Errc::internal);
    ret = avfilter_graph_create_filter(&sink, avfilter_get_by_name("abuffersink"), "out", nullptr,
                                       nullptr, graph.get());
    if (ret < 0) return av::error(ret, "audio measurement sink", Errc::internal);
    // Frames of at most 512 samples hold at most one 100 ms ebur128 block each (from 5.12 kHz),
    // so every block's momentary loudness reaches us.
    const std::string chain = (filter.empty() ? "" : filter + ",") +
                              "asetnsamples=n=512:p=0,ebur128=peak=true:metadata=1";
    AVFilterInOut* outputs = avfilter_inout_alloc();
    AVFilterInOut* inputs = avfilter_inout_alloc();
    outputs->name = av_strdup("in");
    outputs->filter_ctx = src;
    inputs->name = av_strdup("out");
    inputs->filter_ctx = sink;
    ret = avfilter_graph_parse_ptr(graph.get(), chain.c_str(), &inputs, &outputs, nullptr);
    avfilter_inout_free(&inputs);
    avfilter_inout_free(&outputs);
    if (ret >= 0) ret = avfilter_graph_config(graph.get(), nullptr);
    if (ret < 0) {
        return make_error(Errc::invalid_argument,
                          "audio filter '" + chain + "': " +
                              (reason.last().empty() ? av::error_string(ret) : reason.last()));
    }

    Collector collect;
    int64_t samples = 0;
    av::FramePtr frame = av::make_frame();
    auto drain = [&]() -> Status {
        while (true) {
            int r = av_buffersink_get_frame(sink, frame.get());
            if (r == AVERROR(EAGAIN) || r == AVERROR_EOF) return {};
            if (r < 0) return av::error(r, "audio measurement");
            collect.take(*frame);
            samples += frame->nb_samples;
            av_frame_unref(frame.get());
        }
    };
    auto feed = [&]() -> Status {
        while (decoder.receive(frame.get()) == 0) {
            frame->pts = frame->best_effort_timestamp;
            int r = av_buffersrc_add_frame(src, frame.get());
            av_frame_unref(frame.get());
            if (r < 0) return av::error(r, "audio measurement input");
            RR_TRY(drain());
        }
        return {};
    };
    av::PacketPtr pkt = av::make_packet();
    while (true) {
        if (stop.stop_requested()) return make_error(Errc::cancelled, "cancelled");
        ret = demuxer.read(pkt.get());
        if (ret < 0) break;             // end, or an unreadable tail: measure what was read
        (void)decoder.send(pkt.get());  // a damaged packet only loses its own samples
        av_packet_unref(pkt.get());
        RR_TRY(feed());
    }
    (void)decoder.send(nullptr);
    RR_TRY(feed());
    ret = av_buffersrc_add_frame(src, nullptr);
    if (ret < 0) return av::error(ret, "audio measurement flush");
    RR_TRY(drain());

    Loudness out = collect.result;
    out.threshold = collect.relative_threshold();
    out.quiet = collect.quiet_level();
    const int rate = av_buffersink_get_sample_rate(sink);
    out.seconds = rate > 0 ? static_cast<double>(samples) / rate : 0.0;
    return out;
}

}  // namespace rr::media
