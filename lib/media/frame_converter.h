#pragma once
// Converts frames between sizes and pixel formats with libswscale, honouring the source's
// colour matrix and range and tagging the result. Identity conversions pass frames through.
// Output frames come from a pool: a buffer is reused once every holder has let go of it.

#include <optional>

#include "core/result.h"
#include "media/av_handles.h"
#include "media/frame_format.h"
#include "media/frame_pool.h"

namespace rr::media {

class FrameConverter {
  public:
    // Frames arriving in `from` become `to`. When `crop` is set and `to` is at most one pixel
    // smaller in each direction, the right/bottom edge is cropped rather than rescaled
    // (used to make odd sizes even for 4:2:0 encoders).
    [[nodiscard]] static Result<FrameConverter> create(const FrameFormat& from,
                                                       const FrameFormat& to, bool crop = false,
                                                       int flags = 0);
    [[nodiscard]] Result<av::FramePtr> convert(av::FramePtr in);
    // Writes the converted picture into `planes` (laid out as `to`'s planes), for callers that
    // keep the result in their own buffers. Not for identity converters.
    [[nodiscard]] Status convert_into(const AVFrame& in, uint8_t* const planes[],
                                      const int strides[]);
    [[nodiscard]] bool identity() const { return !sws_; }

  private:
    FrameConverter() = default;
    FrameFormat from_, to_;
    int crop_right_ = 0, crop_bottom_ = 0;
    av::SwsPtr sws_;
    std::optional<FramePool> pool_;
};

}  // namespace rr::media
