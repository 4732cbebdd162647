#pragma once
// The simple per-frame filters: grayscale, blur, brightness, contrast.

#include <memory>

#include "core/stage_spec.h"
#include "stages/stage.h"

namespace rr::stages {

[[nodiscard]] Result<std::unique_ptr<Stage>> make_grayscale(const StageSpec& spec);
// radius in pixels: a Gaussian kernel of 2*radius+1 taps with sigma = radius/2.
[[nodiscard]] Result<std::unique_ptr<Stage>> make_blur(const StageSpec& spec);
// amount -1..1 of the luma range, added to every luma sample.
[[nodiscard]] Result<std::unique_ptr<Stage>> make_brightness(const StageSpec& spec);
// factor 0..4 applied to luma around mid-grey.
[[nodiscard]] Result<std::unique_ptr<Stage>> make_contrast(const StageSpec& spec);

}  // namespace rr::stages
