#pragma once
#include <memory>

#include "core/stage_spec.h"
#include "stages/factory.h"
#include "stages/stage.h"

namespace rr::stages {

// Finds faces (BlazeFace) and people (HOG) every `every` frames, follows them in between,
// gives them track ids that hold across chunks, and optionally draws, blurs or pixelates
// them. The detections are also written beside the output as <output>.detections.json.
[[nodiscard]] Result<std::unique_ptr<Stage>> make_detect(const StageSpec& spec,
                                                         const StageEnv& env);

}  // namespace rr::stages
