#pragma once
#include <memory>

#include "core/stage_spec.h"
#include "stages/stage.h"

namespace rr::stages {

// Resizes with Lanczos; a dimension of -1 keeps the aspect ratio. Sizes are rounded to what
// the pixel format's chroma subsampling allows (even for 4:2:0). Unless `upscale: true`, a
// target larger than the input in either dimension keeps the input's size.
[[nodiscard]] Result<std::unique_ptr<Stage>> make_scale(const StageSpec& spec);

}  // namespace rr::stages
