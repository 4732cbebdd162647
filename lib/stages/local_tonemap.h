#pragma once
// "HDR-like" local tone mapping for SDR pictures: luma is split (in log space) into an
// edge-preserving base layer and detail; the base's range is compressed (shadows lift,
// highlights come down) and the detail boosted, so both ends of the picture show more.
// Chroma follows the local luma change so colours keep their saturation.

#include <opencv2/core.hpp>

#include "media/av_handles.h"
#include "stages/planes.h"

namespace rr::stages {

class LocalToneMap {
  public:
    // `strength` 0..1: 0 leaves the picture unchanged.
    LocalToneMap(double strength, YuvLayout layout) : strength_(strength), layout_(layout) {}
    // Edits the (writable) frame in place.
    void apply(AVFrame& frame);

  private:
    double strength_;
    YuvLayout layout_;
    // Per code value: (y + floor)^boost, log2(y + floor) and y + floor.
    cv::Mat power_, log_code_, level_;
    cv::Mat small_, log_, base_small_, field_, gain_;
};

}  // namespace rr::stages
