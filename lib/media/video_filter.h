#pragma once
// A libavfilter graph over video frames, in-process: frames of a known format go in, the
// chain's output comes out. Stages use it for FFmpeg's filters (hqdn3d, nlmeans, atadenoise,
// zscale, tonemap). One graph belongs to one chunk worker.

#include <string>
#include <vector>

#include "core/result.h"
#include "media/av_handles.h"
#include "media/filter_graph.h"
#include "media/frame_format.h"

namespace rr::media {

class VideoFilter {
  public:
    // `chain` is a filter description such as "hqdn3d=4:3:6:4.5"; "" passes frames through.
    // The output is converted to `out_pix_fmt` (AV_PIX_FMT_NONE: whatever the chain gives).
    // `threads` caps the graph's slice threads (the worker's share of cores).
    [[nodiscard]] static Result<VideoFilter> create(const FrameFormat& in, const std::string& chain,
                                                    AVPixelFormat out_pix_fmt, int threads);
    VideoFilter(VideoFilter&&) noexcept = default;
    VideoFilter& operator=(VideoFilter&&) noexcept = default;

    // Feeds one frame (nullptr = end of input) and appends every frame the chain has ready.
    [[nodiscard]] Status push(av::FramePtr frame, std::vector<av::FramePtr>& out);

  private:
    explicit VideoFilter(FilterGraph graph) : graph_(std::move(graph)) {}
    FilterGraph graph_;
};

}  // namespace rr::media
