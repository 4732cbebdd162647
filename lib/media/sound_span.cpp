#include "media/sound_span.h"

#include <algorithm>
#include <cmath>

#include "media/audio_decode.h"

namespace rr::media {

Result<SoundSpan> find_sound(const MappedFile& input, double threshold_db, std::stop_token stop) {
    SoundSpan span;
    RR_ASSIGN(Demuxer demuxer, Demuxer::open(input, true));
    const int index = demuxer.best_audio_stream();
    if (index < 0) return span;
    auto decoder = AudioDecoder::open(demuxer.stream(index));
    if (!decoder) return span;  // no decoder: as good as no audio for trimming purposes
    span.has_audio = true;
    const int rate = decoder->context().sample_rate;
    if (rate <= 0) return span;

    // Everything mixed down to mono float at the stream's own rate.
    RR_ASSIGN(FilterGraph mono, FilterGraph::audio(decoder->format(),
                                                   "aformat=sample_fmts=flt:channel_layouts=mono"));
    const double threshold = std::pow(10.0, threshold_db / 20.0);
    const int window = std::max(1, rate / 100);
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

    const AVRational tb = mono.output_time_base();  // the stream's, or 1/rate after a conversion
    av::FramePtr out = av::make_frame();
    auto drain = [&]() -> Status {
        while (true) {
            RR_ASSIGN(const bool got, mono.pull(out.get()));
            if (!got) return {};
            const double t0 =
                out->pts == AV_NOPTS_VALUE ? 0 : static_cast<double>(out->pts) * av_q2d(tb);
            add(reinterpret_cast<const float*>(out->data[0]), out->nb_samples, t0);
            av_frame_unref(out.get());
        }
    };
    RR_TRY(decode_audio(demuxer, index, *decoder, stop, [&](AVFrame& frame) -> Status {
        RR_TRY(mono.push(&frame));
        return drain();
    }));
    RR_TRY(mono.push(nullptr));
    RR_TRY(drain());
    return span;
}

}  // namespace rr::media
