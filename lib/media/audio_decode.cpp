#include "media/audio_decode.h"

extern "C" {
#include <libavutil/channel_layout.h>
#include <libavutil/mathematics.h>
}

namespace rr::media {
namespace {

// Some inputs only know their channel count; filters, resamplers and encoders need a layout,
// and FFmpeg's default one for that count is what its own tools assume.
void make_usable(AVChannelLayout& layout) {
    if (layout.order != AV_CHANNEL_ORDER_UNSPEC) return;
    const int channels = layout.nb_channels;
    av_channel_layout_uninit(&layout);
    av_channel_layout_default(&layout, channels);
}

}  // namespace

Result<AudioDecoder> AudioDecoder::open(const AVStream* stream) {
    AudioDecoder d;
    RR_ASSIGN(d.decoder_, Decoder::open(stream, 1));
    d.time_base_ = stream->time_base;
    d.frame_ = av::make_frame();
    make_usable(d.decoder_.context()->ch_layout);
    return d;
}

AudioSourceFormat AudioDecoder::format() const {
    const AVCodecContext& c = context();
    return {c.sample_rate, c.sample_fmt, &c.ch_layout, time_base_};
}

int64_t AudioDecoder::continuous_pts(const AVFrame& f) {
    int64_t pts = f.best_effort_timestamp;
    // Frames without a time (WMA in ASF gives one per packet, not per frame) and frames that
    // would go back in time (a transport stream's clock starting over, overlapping packets)
    // continue from the previous frame's end: audio is a sample count, and encoders and muxers
    // refuse time running backwards.
    if (next_pts_ != AV_NOPTS_VALUE && (pts == AV_NOPTS_VALUE || pts < next_pts_)) pts = next_pts_;
    if (pts != AV_NOPTS_VALUE && f.sample_rate > 0)
        next_pts_ = pts + av_rescale_q(f.nb_samples, AVRational{1, f.sample_rate}, time_base_);
    return pts;
}

Status AudioDecoder::push(const AVPacket* pkt, const AudioFrameFn& on_frame) {
    (void)decoder_.send(pkt);  // a damaged packet only loses its own samples
    AVFrame* f = frame_.get();
    while (decoder_.receive(f) == 0) {
        f->pts = continuous_pts(*f);
        make_usable(f->ch_layout);
        Status s = on_frame(*f);
        av_frame_unref(f);
        RR_TRY(s);
    }
    return {};
}

Status decode_audio(Demuxer& demuxer, int stream, AudioDecoder& decoder, std::stop_token stop,
                    const AudioFrameFn& on_frame) {
    demuxer.keep_only({stream});
    av::PacketPtr pkt = av::make_packet();
    while (true) {
        if (stop.stop_requested()) return make_error(Errc::cancelled, "cancelled");
        if (demuxer.read(pkt.get()) < 0) break;  // the end, or an unreadable tail
        Status s = pkt->stream_index == stream ? decoder.push(pkt.get(), on_frame) : Status{};
        av_packet_unref(pkt.get());
        RR_TRY(s);
    }
    return decoder.push(nullptr, on_frame);
}

}  // namespace rr::media
