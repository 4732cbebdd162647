#pragma once
// bwdif over decoded frames, before anything else sees them. Output frames carry timestamps in
// `out_time_base`: the input's (one frame per frame) or half of it (one frame per field, the
// second field halfway to the next frame), so every timestamp stays exact.

#include <string>
#include <vector>

#include "core/result.h"
#include "media/av_handles.h"
#include "media/filter_graph.h"
#include "media/frame_format.h"

namespace rr::media {

class Deinterlacer {
  public:
    // `chain` is the plan's bwdif filter; the output keeps `in`'s pixel format.
    [[nodiscard]] static Result<Deinterlacer> create(const FrameFormat& in,
                                                     const std::string& chain,
                                                     AVRational out_time_base, int threads);
    Deinterlacer(Deinterlacer&&) noexcept = default;
    Deinterlacer& operator=(Deinterlacer&&) noexcept = default;

    // Feeds one frame (nullptr = end of input) and appends every frame ready. bwdif holds one
    // frame back (it needs the next one), so output lags input by one until the end.
    [[nodiscard]] Status push(av::FramePtr frame, std::vector<av::FramePtr>& out);

  private:
    Deinterlacer(FilterGraph g, AVRational out_tb) : graph_(std::move(g)), out_tb_(out_tb) {}
    FilterGraph graph_;
    AVRational out_tb_;
};

}  // namespace rr::media
