#include "media/sound_span.h"

extern "C" {
#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>
}

#include <cmath>
#include <vector>

#include "media/av_error.h"
#include "media/decoder.h"
#include "media/demuxer.h"

namespace rr::media {

Result<SoundSpan> find_sound(const MappedFile& input, double threshold_db, std::stop_token stop) {
    SoundSpan span;
    RR_ASSIGN(Demuxer demuxer, Demuxer::open(input, true));
    const int index = demuxer.best_audio_stream();
    if (index < 0) return span;
    const AVStream* st = demuxer.stream(index);
    auto decoder = Decoder::open(st, 1);
    if (!decoder) return span;  // no decoder: as good as no audio for trimming purposes
    span.has_audio = true;
    demuxer.keep_only({index});
    const AVCodecContext* dec = decoder->context();
    const int rate = dec->sample_rate;
    if (rate <= 0) return span;

    // Everything mixed down to mono float at the stream's own rate.
    av::SwrPtr swr;
    {
        SwrContext* raw = nullptr;
        AVChannelLayout mono = AV_CHANNEL_LAYOUT_MONO;
        AVChannelLayout in_layout = {};
        av_channel_layout_copy(&in_layout, &dec->ch_layout);
        if (in_layout.order == AV_CHANNEL_ORDER_UNSPEC)
            av_channel_layout_default(&in_layout, in_layout.nb_channels);
        int ret = swr_alloc_set_opts2(&raw, &mono, AV_SAMPLE_FMT_FLT, rate, &in_layout,
                                      dec->sample_fmt, rate, 0, nullptr);
        av_channel_layout_uninit(&in_layout);
        swr.reset(raw);
        if (ret < 0 || swr_init(swr.get()) < 0)
            return av::error(ret < 0 ? ret : AVERROR(EINVAL), "audio level resampler");
    }
    const double threshold = std::pow(10.0, threshold_db / 20.0);
    const int window = std::max(1, rate / 100);
    std::vector<float> samples;
    double window_sum = 0;
    int window_fill = 0;
    double window_start = 0;
    auto add = [&](const float* s, int n, double t0) {
        for (int i = 0; i < n; ++i) {
            if (window_fill == 0) window_start = t0 + static_cast<double>(i) / rate;
            window_sum += static_cast<double>(s[i]) * s[i];
            if (++window_fill == window) {
                if (std::sqrt(window_sum / window) > threshold) {
                    if (!span.audible) span.first = window_start;
                    span.audible = true;
                    span.last = window_start + static_cast<double>(window) / rate;
                }
                window_sum = 0;
                window_fill = 0;
            }
        }
    };

    av::PacketPtr pkt = av::make_packet();
    av::FramePtr frame = av::make_frame();
    auto drain = [&]() -> Status {
        while (decoder->receive(frame.get()) == 0) {
            const int64_t ts = frame->best_effort_timestamp;
            const double t0 =
                ts == AV_NOPTS_VALUE ? 0 : static_cast<double>(ts) * av_q2d(st->time_base);
            samples.resize(static_cast<size_t>(swr_get_out_samples(swr.get(), frame->nb_samples)));
            auto* out = reinterpret_cast<uint8_t*>(samples.data());
            const int n =
                swr_convert(swr.get(), &out, static_cast<int>(samples.size()),
                            const_cast<const uint8_t**>(frame->extended_data), frame->nb_samples);
            if (n < 0) return av::error(n, "audio level resampling");
            add(samples.data(), n, t0);
            av_frame_unref(frame.get());
        }
        return {};
    };
    while (true) {
        if (stop.stop_requested()) return make_error(Errc::cancelled, "cancelled");
        int ret = demuxer.read(pkt.get());
        if (ret < 0) break;  // the end, or a damaged tail: what was read decides
        if (pkt->stream_index == index) {
            (void)decoder->send(pkt.get());  // a damaged packet only loses its own samples
            RR_TRY(drain());
        }
        av_packet_unref(pkt.get());
    }
    (void)decoder->send(nullptr);
    RR_TRY(drain());
    return span;
}

}  // namespace rr::media
