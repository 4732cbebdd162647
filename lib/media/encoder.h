#pragma once
// Video encoders (software and hardware) behind one interface, and the choice between them.

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/logging.h"
#include "core/result.h"
#include "media/av_handles.h"
#include "media/frame_format.h"

namespace rr::media {

struct EncoderChoice {
    std::string name;                                 // FFmpeg encoder name, e.g. libx264, h264_qsv
    HwAccel hwaccel = HwAccel::none;                  // never automatic: what was chosen
    AVPixelFormat input_format = AV_PIX_FMT_YUV420P;  // what frames must be converted to
    VideoSettings settings;
    // AV_FIELD_TT/BB: code interlaced (libx264 only; video.interlace: keep).
    AVFieldOrder field_order = AV_FIELD_PROGRESSIVE;
    nlohmann::json attempts = nlohmann::json::array();  // [{encoder, hwaccel, ok, error}]

    [[nodiscard]] nlohmann::json to_json() const;
};

// An opened encoder. Closing one that never received a frame is safe whatever the encoder:
// SVT-AV1 1.4 never returns from closing (nor from draining) an encoder that got no picture,
// so such an encoder is fed one black frame and drained, its packets discarded, before it is
// freed. Probes (choose_encoder, --check-config) and empty chunks rely on this. Encoders that
// close cleanly are not fed: x265 at veryslow would spend 2 s on a 1080p frame nobody sees.
class VideoEncoder {
  public:
    // `threads` is the encoder's share of the machine (cores / workers).
    [[nodiscard]] static Result<VideoEncoder> open(const EncoderChoice& choice,
                                                   const FrameFormat& format, int threads);
    VideoEncoder(VideoEncoder&& other) noexcept = default;
    VideoEncoder& operator=(VideoEncoder&& other) noexcept;
    VideoEncoder(const VideoEncoder&) = delete;
    VideoEncoder& operator=(const VideoEncoder&) = delete;
    ~VideoEncoder();

    // nullptr flushes. Flushing an encoder that got no frame ends it without packets.
    [[nodiscard]] Status send(const AVFrame* frame);
    // 0 with a packet, AVERROR(EAGAIN), AVERROR_EOF.
    [[nodiscard]] int receive(AVPacket* pkt);
    [[nodiscard]] AVCodecContext* context() const { return ctx_.get(); }

  private:
    VideoEncoder() = default;
    [[nodiscard]] Status submit(const AVFrame* frame);
    void close_unfed() noexcept;
    av::BufferRefPtr device_;  // hardware device (VAAPI), if any
    av::CodecContextPtr ctx_;
    AVPixelFormat sw_format_ = AV_PIX_FMT_NONE;  // what frames given to send() are in
    bool fed_ = false;                           // a frame reached the encoder
    bool ended_ = false;                         // send(nullptr) was called
};

// Picks the encoder for `settings` on this machine by opening candidates in order:
// hwaccel auto tries QSV (oneVPL), VAAPI, NVENC, then software. Each attempt is logged and
// recorded; a failed hardware path falls back to software instead of failing the job.
[[nodiscard]] Result<EncoderChoice> choose_encoder(const VideoSettings& settings,
                                                   const FrameFormat& format,
                                                   const LoggerPtr& logger,
                                                   AVFieldOrder field_order = AV_FIELD_PROGRESSIVE);

// Marks a frame for an interlaced encoder (libx264 reads top_field_first per frame).
void mark_fields(AVFrame& frame, AVFieldOrder order);

// The default output pixel format for a codec and source depth, unless the profile names one.
[[nodiscard]] AVPixelFormat output_pix_fmt(const VideoSettings& settings, int source_bit_depth);

}  // namespace rr::media
