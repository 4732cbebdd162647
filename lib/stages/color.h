#pragma once
#include <memory>

#include "core/stage_spec.h"
#include "stages/stage.h"

namespace rr::stages {

// Colour enhancement in R'G'B': grey-world white balance and auto levels from statistics of
// the whole video (measured chunk-parallel first, so chunks cannot disagree), gamma, local
// contrast (CLAHE on lightness), saturation and a .cube 3D LUT.
[[nodiscard]] Result<std::unique_ptr<Stage>> make_color(const StageSpec& spec);

}  // namespace rr::stages
