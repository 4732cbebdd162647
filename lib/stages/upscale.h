#pragma once
#include <memory>

#include "core/stage_spec.h"
#include "stages/factory.h"
#include "stages/stage.h"

namespace rr::stages {

// Neural super-resolution (UpscalerJS RDN networks through OpenCV DNN), tiled so memory
// does not grow with the picture. `fallback: lanczos` upscales with Lanczos when the model
// file is missing (recorded in the result); otherwise a missing model is a validation error.
[[nodiscard]] Result<std::unique_ptr<Stage>> make_upscale(const StageSpec& spec,
                                                          const StageEnv& env);

}  // namespace rr::stages
