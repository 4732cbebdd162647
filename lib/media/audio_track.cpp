#include "media/audio_track.h"

extern "C" {
#include <libavcodec/adts_parser.h>
#include <libavutil/channel_layout.h>
}

#include <algorithm>
#include <memory>

#include "media/audio_decode.h"
#include "media/av_error.h"
#include "media/demuxer.h"
#include "media/filter_graph.h"
#include "media/intermediate.h"
#include "media/media_writer.h"

namespace rr::media {
namespace {

int64_t parse_bitrate(const std::string& text) {
    if (text.empty()) return 160000;
    double value = std::stod(text);
    char unit = text.back();
    if (unit == 'k' || unit == 'K')
        value *= 1000;
    else if (unit == 'm' || unit == 'M')
        value *= 1000000;
    return static_cast<int64_t>(value);
}

// One audio stream on its way from the input to the intermediate file.
class StreamCoder {
  public:
    static Result<std::unique_ptr<StreamCoder>> open(const AVStream* in,
                                                     const AudioStreamPlan& plan, int64_t bitrate,
                                                     MediaWriter& writer) {
        auto coder = std::unique_ptr<StreamCoder>(new StreamCoder());
        coder->plan_ = plan;
        coder->in_tb_ = in->time_base;
        if (plan.copy) {
            coder->aac_ = in->codecpar->codec_id == AV_CODEC_ID_AAC;
            coder->has_config_ = in->codecpar->extradata_size > 0;
            RR_ASSIGN(coder->out_, writer.add_stream(in->codecpar, in->time_base));
            return coder;
        }
        RR_ASSIGN(AudioDecoder dec, AudioDecoder::open(in));
        coder->decoder_ = std::make_unique<AudioDecoder>(std::move(dec));
        const AVCodec* codec = avcodec_find_encoder_by_name(plan.encoder.c_str());
        if (!codec)
            return make_error(Errc::unsupported, "audio encoder " + plan.encoder + " missing");
        coder->enc_.reset(avcodec_alloc_context3(codec));
        if (!coder->enc_) return make_error(Errc::internal, "out of memory");
        AVCodecContext* enc = coder->enc_.get();
        const AVCodecContext& dctx = coder->decoder_->context();
        enc->sample_rate = plan.encoder == "libopus" ? 48000 : dctx.sample_rate;
        int ret = av_channel_layout_copy(&enc->ch_layout, &dctx.ch_layout);
        if (ret < 0) return av::error(ret, "channel layout", Errc::internal);
        enc->sample_fmt = codec->sample_fmts ? codec->sample_fmts[0] : AV_SAMPLE_FMT_FLTP;
        enc->bit_rate = bitrate;
        enc->time_base = AVRational{1, enc->sample_rate};
        enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
        ret = avcodec_open2(enc, codec, nullptr);
        if (ret < 0) return av::error(ret, "cannot open audio encoder " + plan.encoder);
        RR_TRY(coder->build_graph());
        RR_ASSIGN(coder->out_, writer.add_stream(av::parameters_of(enc).get(), enc->time_base));
        return coder;
    }

    [[nodiscard]] int output_index() const { return out_->index; }
    [[nodiscard]] AVRational output_tb() const { return plan_.copy ? in_tb_ : enc_->time_base; }

    // Feeds one input packet (nullptr = end); encoded packets go to `sink`.
    template <class Sink>
    Status push(const AVPacket* pkt, Sink&& sink) {
        if (plan_.copy) {
            // An edit list (MP4/MOV) leaves these out of the presentation; decoders drop
            // them, and a copy must too or the sound starts before the picture.
            if (!pkt || (pkt->flags & AV_PKT_FLAG_DISCARD)) return {};
            if (damaged_adts(*pkt)) {
                av_log(nullptr, AV_LOG_WARNING,
                       "audio stream %d: dropped an AAC packet with a damaged ADTS header\n",
                       plan_.input_index);
                return {};
            }
            av::PacketPtr copy = av::make_packet();
            if (av_packet_ref(copy.get(), pkt) < 0) throw std::bad_alloc();
            make_continuous(*copy);
            return sink(copy.get(), in_tb_);
        }
        RR_TRY(decoder_->push(pkt, [&](AVFrame& frame) -> Status {
            RR_TRY(graph_->push(&frame));
            return drain_graph(sink);
        }));
        if (!pkt) {
            RR_TRY(graph_->push(nullptr));
            RR_TRY(drain_graph(sink));
            RR_TRY(encode(nullptr, sink));
        }
        return {};
    }

  private:
    StreamCoder() = default;

    // Copied AAC in ADTS framing (transport streams) reaches MP4 through aac_adtstoasc,
    // which refuses a packet whose ADTS header does not parse, and with it the whole output.
    // Such a packet is dropped: its samples become a gap, later packets keep their times.
    [[nodiscard]] bool damaged_adts(const AVPacket& p) const {
        if (!aac_) return false;
        const bool sync = p.size >= 2 && p.data[0] == 0xff && (p.data[1] & 0xf0) == 0xf0;
        // With an AudioSpecificConfig in the stream, packets without the sync word are raw
        // AAC and pass through; without one, the filter parses every packet.
        if (!sync && has_config_) return false;
        if (p.size < AV_AAC_ADTS_HEADER_SIZE) return true;
        uint32_t samples = 0;
        uint8_t frames = 0;
        return av_adts_header_parse(p.data, &samples, &frames) < 0;
    }

    // A copied stream whose clock jumps back (transport streams cut together, a wrapped
    // clock the demuxer did not unwrap) continues where it was: every later packet moves by
    // the same amount, so the sound stays continuous, as the ffmpeg CLI makes it.
    void make_continuous(AVPacket& p) {
        if (p.dts == AV_NOPTS_VALUE && last_dts_ != AV_NOPTS_VALUE)
            p.dts = last_dts_ + last_duration_;
        if (p.dts == AV_NOPTS_VALUE) return;
        if (last_dts_ != AV_NOPTS_VALUE && p.dts + shift_ <= last_dts_)
            shift_ = last_dts_ + last_duration_ - p.dts;
        p.dts += shift_;
        if (p.pts != AV_NOPTS_VALUE) p.pts += shift_;
        last_dts_ = p.dts;
        last_duration_ = std::max<int64_t>(p.duration, 1);
    }

    // The plan's chain, then whatever the encoder needs (rate, sample format, layout).
    Status build_graph() {
        char enc_layout[256] = {};
        av_channel_layout_describe(&enc_->ch_layout, enc_layout, sizeof enc_layout);
        std::string chain = plan_.filter.empty() ? "" : plan_.filter + ",";
        chain += std::string("aresample=") + std::to_string(enc_->sample_rate) +
                 ",aformat=sample_fmts=" + av_get_sample_fmt_name(enc_->sample_fmt) +
                 ":channel_layouts=" + enc_layout;
        RR_ASSIGN(FilterGraph graph, FilterGraph::audio(decoder_->format(), chain));
        graph_ = std::make_unique<FilterGraph>(std::move(graph));
        if (enc_->frame_size > 0 &&
            !(enc_->codec->capabilities & AV_CODEC_CAP_VARIABLE_FRAME_SIZE)) {
            graph_->set_frame_size(static_cast<unsigned>(enc_->frame_size));
        }
        return {};
    }

    template <class Sink>
    Status drain_graph(Sink& sink) {
        av::FramePtr f = av::make_frame();
        while (true) {
            RR_ASSIGN(const bool got, graph_->pull(f.get()));
            if (!got) return {};
            f->pts = av_rescale_q(f->pts, graph_->output_time_base(), enc_->time_base);
            RR_TRY(encode(f.get(), sink));
            av_frame_unref(f.get());
        }
    }

    template <class Sink>
    Status encode(const AVFrame* frame, Sink& sink) {
        int ret = avcodec_send_frame(enc_.get(), frame);
        if (ret < 0 && ret != AVERROR_EOF) return av::error(ret, "audio encode");
        av::PacketPtr pkt = av::make_packet();
        while ((ret = avcodec_receive_packet(enc_.get(), pkt.get())) == 0) {
            RR_TRY(sink(pkt.get(), enc_->time_base));
        }
        if (ret != AVERROR(EAGAIN) && ret != AVERROR_EOF) return av::error(ret, "audio encode");
        return {};
    }

    AudioStreamPlan plan_;
    AVRational in_tb_{1, 1};
    int64_t last_dts_ = AV_NOPTS_VALUE;  // copy: the previous packet's, after the shift
    int64_t last_duration_ = 1;
    int64_t shift_ = 0;
    bool aac_ = false;         // copy: AAC, maybe ADTS-framed
    bool has_config_ = false;  // copy: the stream has an AudioSpecificConfig  // copy: added to
                               // every packet since the last jump back
    AVStream* out_ = nullptr;
    std::unique_ptr<AudioDecoder> decoder_;
    av::CodecContextPtr enc_;
    std::unique_ptr<FilterGraph> graph_;
};

}  // namespace

nlohmann::json AudioPlan::to_json() const {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& s : streams) {
        nlohmann::json j = {{"input_stream", s.input_index},
                            {"mode", s.copy ? "copy" : "encode"},
                            {"reason", s.reason}};
        if (!s.copy) {
            j["encoder"] = s.encoder;
            j["bitrate"] = bitrate;
        }
        if (!s.filter.empty()) j["filter"] = s.filter;
        arr.push_back(std::move(j));
    }
    for (const auto& d : dropped)
        arr.push_back({{"input_stream", d.input_index}, {"mode", "dropped"}, {"reason", d.reason}});
    return arr;
}

namespace {

// Codecs FFmpeg's MP4 muxer lists as storable but refuses at write time unless told to be
// experimental (FFmpeg 5.1): these are encoded like any codec the container cannot carry.
bool experimental_in(Container container, AVCodecID codec) {
    return container == Container::mp4 &&
           (codec == AV_CODEC_ID_FLAC || codec == AV_CODEC_ID_TRUEHD);
}

// WebM holds no AAC: what cannot be copied there becomes Opus.
void encode_instead(AudioStreamPlan& s, const AudioSettings& settings, Container container,
                    std::string reason) {
    s.copy = false;
    s.encoder =
        settings.codec == AudioCodec::opus || container == Container::webm ? "libopus" : "aac";
    s.reason = std::move(reason);
}

}  // namespace

Result<AudioPlan> plan_audio(const AVFormatContext* input, const AudioSettings& settings,
                             Container container, bool reencode) {
    AudioPlan plan;
    plan.container = container;
    try {
        plan.bitrate = parse_bitrate(settings.bitrate);
    } catch (const std::exception&) {
        return make_error(Errc::config,
                          "audio.bitrate: cannot read '" + settings.bitrate + "' (e.g. 160k)");
    }
    const AVOutputFormat* ofmt = av_guess_format(muxer_name(container), nullptr, nullptr);
    for (unsigned i = 0; i < input->nb_streams; ++i) {
        const AVStream* st = input->streams[i];
        if (st->codecpar->codec_type != AVMEDIA_TYPE_AUDIO) continue;
        if (st->codecpar->ch_layout.nb_channels <= 0 || st->codecpar->sample_rate <= 0) continue;
        AudioStreamPlan s;
        s.input_index = static_cast<int>(i);
        const bool fits =
            ofmt && avformat_query_codec(ofmt, st->codecpar->codec_id, FF_COMPLIANCE_NORMAL) == 1 &&
            !experimental_in(container, st->codecpar->codec_id);
        const char* codec = avcodec_get_name(st->codecpar->codec_id);
        const std::string container_name(to_string(container));
        if (settings.codec == AudioCodec::copy && !reencode && fits) {
            s.reason = std::string("copy: ") + codec + " fits " + container_name;
        } else {
            encode_instead(s, settings, container,
                           reencode ? "audio stages need re-encoding"
                           : settings.codec != AudioCodec::copy
                               ? "profile asks for " + std::string(to_string(settings.codec))
                               : std::string(codec) + " cannot be stored in " + container_name);
        }
        plan.streams.push_back(std::move(s));
    }
    return plan;
}

void trim_audio(AudioPlan& plan, double start, std::optional<double> end,
                const AudioSettings& settings) {
    char trim[128];
    if (end)
        snprintf(trim, sizeof trim, "atrim=start=%.6f:end=%.6f", start, *end);
    else
        snprintf(trim, sizeof trim, "atrim=start=%.6f", start);
    for (auto& s : plan.streams) {
        s.filter = s.filter.empty() ? trim : s.filter + "," + trim;
        if (s.copy) encode_instead(s, settings, plan.container, "trimmed with the video");
    }
}

Status write_audio(const MappedFile& input, const AudioPlan& plan, const std::filesystem::path& out,
                   std::stop_token stop) {
    RR_ASSIGN(Demuxer demuxer, Demuxer::open(input, true));
    RR_ASSIGN(MediaWriter writer, MediaWriter::create(out, kIntermediateMuxer));
    writer.format()->avoid_negative_ts = AVFMT_AVOID_NEG_TS_DISABLED;
    std::vector<std::unique_ptr<StreamCoder>> coders(demuxer.format()->nb_streams);
    for (unsigned i = 0; i < demuxer.format()->nb_streams; ++i)
        demuxer.stream(static_cast<int>(i))->discard = AVDISCARD_ALL;
    for (const auto& s : plan.streams) {
        AVStream* st = demuxer.stream(s.input_index);
        st->discard = AVDISCARD_DEFAULT;
        RR_ASSIGN(coders[static_cast<size_t>(s.input_index)],
                  StreamCoder::open(st, s, plan.bitrate, writer));
    }
    RR_TRY(writer.write_header());
    // The NUT muxer may adjust time bases in write_header; rescale into whatever it chose.
    auto sink_for = [&](const StreamCoder& c) {
        return [&writer, &c](AVPacket* pkt, AVRational tb) -> Status {
            AVStream* os = writer.format()->streams[c.output_index()];
            pkt->stream_index = c.output_index();
            av_packet_rescale_ts(pkt, tb, os->time_base);
            const int64_t off = intermediate_offset(os->time_base);
            if (pkt->pts != AV_NOPTS_VALUE) pkt->pts += off;
            if (pkt->dts != AV_NOPTS_VALUE) pkt->dts += off;
            return writer.write(pkt);
        };
    };
    av::PacketPtr pkt = av::make_packet();
    while (true) {
        if (stop.stop_requested()) return make_error(Errc::cancelled, "cancelled");
        int ret = demuxer.read(pkt.get());
        if (ret == AVERROR_EOF) break;
        if (ret < 0) break;  // unreadable tail: keep what was read; video decides the job's fate
        auto& coder = coders[static_cast<size_t>(pkt->stream_index)];
        if (coder) RR_TRY(coder->push(pkt.get(), sink_for(*coder)));
        av_packet_unref(pkt.get());
    }
    for (auto& coder : coders) {
        if (coder) RR_TRY(coder->push(nullptr, sink_for(*coder)));
    }
    return writer.finish();
}

}  // namespace rr::media
