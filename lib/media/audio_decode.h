#pragma once
// The one way audio is decoded: a decoder whose frames always carry a usable channel layout and
// the stream's best-effort timestamps (made continuous), and the pump that reads a stream through
// it.

#include <functional>
#include <stop_token>

#include "core/result.h"
#include "media/decoder.h"
#include "media/demuxer.h"
#include "media/filter_graph.h"

namespace rr::media {

// Receives each decoded frame; it may take the frame's data (FilterGraph::push).
using AudioFrameFn = std::function<Status(AVFrame& frame)>;

class AudioDecoder {
  public:
    [[nodiscard]] static Result<AudioDecoder> open(const AVStream* stream);
    AudioDecoder(AudioDecoder&&) noexcept = default;
    AudioDecoder& operator=(AudioDecoder&&) noexcept = default;

    [[nodiscard]] const AVCodecContext& context() const { return *decoder_.context(); }
    // The frames' format, for a filter graph's source (valid while the decoder lives).
    [[nodiscard]] AudioSourceFormat format() const;

    // Decodes `pkt` (nullptr drains the decoder at the end) and hands out every frame ready.
    // A damaged packet loses only its own samples.
    [[nodiscard]] Status push(const AVPacket* pkt, const AudioFrameFn& on_frame);

  private:
    AudioDecoder() = default;
    int64_t continuous_pts(const AVFrame& f);
    Decoder decoder_;
    AVRational time_base_{1, 1};
    av::FramePtr frame_;
    int64_t next_pts_ = AV_NOPTS_VALUE;  // where the next frame starts, in time_base_
};

// Reads stream `stream` of `demuxer` to its end (or an unreadable tail: what was read counts)
// through `decoder`, then drains it.
[[nodiscard]] Status decode_audio(Demuxer& demuxer, int stream, AudioDecoder& decoder,
                                  std::stop_token stop, const AudioFrameFn& on_frame);

}  // namespace rr::media
