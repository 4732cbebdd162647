#pragma once
// A libavfilter graph with one buffer source ("in") and one buffer sink ("out"), for audio and
// video alike: the source is described by AVBufferSrcParameters (never an argument string), and
// a chain FFmpeg refuses comes back as an error carrying FFmpeg's own explanation.

#include <cstdint>  // before FFmpeg's headers, which need UINT64_C in C++

extern "C" {
#include <libavfilter/buffersrc.h>
#include <libavutil/channel_layout.h>
}

#include <string>

#include "core/result.h"
#include "media/av_handles.h"
#include "media/frame_format.h"

namespace rr::media {

// What an audio buffer source receives. The layout must be usable (not "unspecified" order);
// `AudioDecoder` guarantees that for decoded frames.
struct AudioSourceFormat {
    int sample_rate = 0;
    AVSampleFormat sample_fmt = AV_SAMPLE_FMT_NONE;
    const AVChannelLayout* layout = nullptr;  // borrowed for the duration of create()
    AVRational time_base{1, 1};
};

class FilterGraph {
  public:
    // `chain` is a filter description ("highpass=f=80,ebur128"); "" passes frames through.
    // `threads` caps the graph's slice threads.
    [[nodiscard]] static Result<FilterGraph> audio(const AudioSourceFormat& in,
                                                   const std::string& chain, int threads = 1);
    [[nodiscard]] static Result<FilterGraph> video(const FrameFormat& in, const std::string& chain,
                                                   int threads);

    FilterGraph(FilterGraph&&) noexcept = default;
    FilterGraph& operator=(FilterGraph&&) noexcept = default;

    // Hands `frame`'s data to the graph (the frame is left blank); nullptr ends the input.
    [[nodiscard]] Status push(AVFrame* frame);
    // Feeds a new reference to `frame`, which the caller keeps (one frame, several graphs).
    [[nodiscard]] Status push_ref(const AVFrame& frame);
    // true with a frame in `out`; false when the graph needs more input or has ended.
    [[nodiscard]] Result<bool> pull(AVFrame* out);

    // Audio sinks: cut the output into frames of exactly `samples` (an encoder's frame size).
    void set_frame_size(unsigned samples);
    [[nodiscard]] AVRational output_time_base() const;
    [[nodiscard]] int output_sample_rate() const;
    [[nodiscard]] const std::string& chain() const { return chain_; }

  private:
    FilterGraph() = default;
    [[nodiscard]] static Result<FilterGraph> create(AVMediaType type,
                                                    const AVBufferSrcParameters& params,
                                                    const std::string& chain, int threads);

    av::FilterGraphPtr graph_;
    AVFilterContext* src_ = nullptr;  // owned by graph_
    AVFilterContext* sink_ = nullptr;
    std::string chain_;  // as configured, for error messages
    const char* kind_ = "video";
};

}  // namespace rr::media
