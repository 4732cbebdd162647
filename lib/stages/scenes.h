#pragma once
#include <memory>

#include "core/stage_spec.h"
#include "stages/factory.h"
#include "stages/stage.h"

namespace rr::stages {

// Shot-boundary detection in the whole-video analysis pass (content changes with an adaptive
// threshold, fades through black). Scene cuts become preferred chunk boundaries and the
// output's chapters; one JPEG per scene is published in <output>.scenes/. With auto_trim,
// leading and trailing frames that are black while the audio is silent are dropped.
[[nodiscard]] Result<std::unique_ptr<Stage>> make_scenes(const StageSpec& spec,
                                                         const StageEnv& env);

}  // namespace rr::stages
