#include "media/loudness.h"

#include "media/loudness_meter.h"

extern "C" {
#include <libavutil/channel_layout.h>
}

#include <algorithm>
#include <cmath>
#include <vector>

#include "media/audio_decode.h"

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

namespace {

std::string measuring_chain(const std::string& filter) {
    // Frames of at most 512 samples hold at most one 100 ms ebur128 block each (from 5.12 kHz),
    // so every block's momentary loudness reaches us.
    return (filter.empty() ? "" : filter + ",") +
           "asetnsamples=n=512:p=0,ebur128=peak=true:metadata=1";
}

// One measurement: frames go in, ebur128's findings accumulate.
class Measurement {
  public:
    static Result<Measurement> open(const AudioSourceFormat& in, const std::string& filter) {
        RR_ASSIGN(FilterGraph graph, FilterGraph::audio(in, measuring_chain(filter)));
        return Measurement(std::move(graph));
    }
    Status take(AVFrame& frame) {
        RR_TRY(graph_.push(&frame));
        return drain();
    }
    Status take_ref(const AVFrame& frame) {
        RR_TRY(graph_.push_ref(frame));
        return drain();
    }
    Result<Loudness> finish() {
        RR_TRY(graph_.push(nullptr));
        RR_TRY(drain());
        Loudness result = collect_.result;
        result.threshold = collect_.relative_threshold();
        result.quiet = collect_.quiet_level();
        const int rate = graph_.output_sample_rate();
        result.seconds = rate > 0 ? static_cast<double>(samples_) / rate : 0.0;
        return result;
    }

  private:
    explicit Measurement(FilterGraph graph) : graph_(std::move(graph)), out_(av::make_frame()) {}
    Status drain() {
        while (true) {
            RR_ASSIGN(const bool got, graph_.pull(out_.get()));
            if (!got) return {};
            collect_.take(*out_);
            samples_ += out_->nb_samples;
            av_frame_unref(out_.get());
        }
    }
    FilterGraph graph_;
    av::FramePtr out_;
    Collector collect_;
    int64_t samples_ = 0;
};

struct LayoutDeleter {
    void operator()(AVChannelLayout* l) const {
        av_channel_layout_uninit(l);
        delete l;
    }
};

}  // namespace

Result<Loudness> measure_loudness(const MappedFile& file, int stream, const std::string& filter,
                                  std::stop_token stop) {
    return LoudnessMeter(file, stream, 0).measure(filter, stop);
}

// The decoded stream as the first measurement saw it, when it fit.
struct LoudnessMeter::Kept {
    std::vector<av::FramePtr> frames;
    AudioSourceFormat format;
    std::unique_ptr<AVChannelLayout, LayoutDeleter> layout;
    int decodes = 0;
};

LoudnessMeter::LoudnessMeter(const MappedFile& file, int stream, size_t keep_bytes)
    : file_(&file), stream_(stream), keep_bytes_(keep_bytes), kept_(std::make_unique<Kept>()) {}
LoudnessMeter::LoudnessMeter(LoudnessMeter&&) noexcept = default;
LoudnessMeter& LoudnessMeter::operator=(LoudnessMeter&&) noexcept = default;
LoudnessMeter::~LoudnessMeter() = default;

int LoudnessMeter::decodes() const {
    return kept_->decodes;
}

Result<Loudness> LoudnessMeter::measure(const std::string& filter, std::stop_token stop) {
    Kept& kept = *kept_;
    if (kept.layout) {  // decoded before and kept whole
        RR_ASSIGN(Measurement m, Measurement::open(kept.format, filter));
        for (const auto& f : kept.frames) {
            if (stop.stop_requested()) return make_error(Errc::cancelled, "cancelled");
            RR_TRY(m.take_ref(*f));
        }
        return m.finish();
    }
    RR_ASSIGN(Demuxer demuxer, Demuxer::open(*file_, true));
    if (stream_ < 0 || stream_ >= static_cast<int>(demuxer.format()->nb_streams))
        return make_error(Errc::internal, "no audio stream " + std::to_string(stream_));
    RR_ASSIGN(AudioDecoder decoder, AudioDecoder::open(demuxer.stream(stream_)));
    RR_ASSIGN(Measurement m, Measurement::open(decoder.format(), filter));
    ++kept.decodes;
    const bool first = kept.decodes == 1;
    std::vector<av::FramePtr> frames;
    size_t bytes = 0;
    bool keep = first && keep_bytes_ > 0;
    RR_TRY(decode_audio(demuxer, stream_, decoder, stop, [&](AVFrame& frame) -> Status {
        if (keep) {
            bytes += static_cast<size_t>(frame.nb_samples) *
                     static_cast<size_t>(frame.ch_layout.nb_channels) *
                     static_cast<size_t>(
                         av_get_bytes_per_sample(static_cast<AVSampleFormat>(frame.format)));
            keep = bytes <= keep_bytes_;
            if (keep)
                frames.push_back(av::ref_frame(&frame));
            else
                frames.clear();  // too long to hold: later measurements decode again
        }
        return m.take(frame);
    }));
    if (keep) {
        kept.frames = std::move(frames);
        kept.layout.reset(new AVChannelLayout{});
        const AudioSourceFormat in = decoder.format();
        if (av_channel_layout_copy(kept.layout.get(), in.layout) < 0) throw std::bad_alloc();
        kept.format = {in.sample_rate, in.sample_fmt, kept.layout.get(), in.time_base};
    }
    return m.finish();
}

}  // namespace rr::media
