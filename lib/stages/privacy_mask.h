#pragma once
// Marks or hides rectangular regions of a planar YUV frame in place: boxes drawn around
// them, or the region (with a margin) blurred or pixelated beyond recognition.

#include <opencv2/core.hpp>
#include <string>

#include "media/av_handles.h"
#include "stages/planes.h"

namespace rr::stages {

enum class MaskAction { none, boxes, blur, pixelate };

// Share of the box's width and height added on every side before hiding it: detectors box
// the face tightly, and hair, ears and chin identify people too.
inline constexpr float kMaskMargin = 0.2f;

// Applies `action` to `box` (frame pixels) on a writable frame. `label` picks the box colour.
void apply_mask(AVFrame& frame, const YuvLayout& layout, MaskAction action, cv::Rect2f box,
                const std::string& label);

}  // namespace rr::stages
