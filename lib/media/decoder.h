#pragma once
#include "core/result.h"
#include "media/av_handles.h"

namespace rr::media {

// A picture the decoder put out although parts of it were lost and concealed (estimated from
// neighbouring data), the way the ffmpeg CLI delivers damaged input.
[[nodiscard]] inline bool is_damaged(const AVFrame& frame) {
    return (frame.flags & AV_FRAME_FLAG_CORRUPT) || frame.decode_error_flags != 0;
}

// A decoder for one stream (video or audio).
class Decoder {
  public:
    [[nodiscard]] static Result<Decoder> open(const AVStream* stream, int threads);

    // nullptr flushes. Returns 0, AVERROR(EAGAIN) or an error.
    [[nodiscard]] int send(const AVPacket* pkt) { return avcodec_send_packet(ctx_.get(), pkt); }
    // 0 with a frame, AVERROR(EAGAIN) when more input is needed, AVERROR_EOF when drained.
    [[nodiscard]] int receive(AVFrame* frame) { return avcodec_receive_frame(ctx_.get(), frame); }
    void reset() { avcodec_flush_buffers(ctx_.get()); }
    [[nodiscard]] AVCodecContext* context() const { return ctx_.get(); }

  private:
    av::CodecContextPtr ctx_;
};

}  // namespace rr::media
