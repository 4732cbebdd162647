#pragma once
#include <memory>

#include "core/stage_spec.h"
#include "stages/stage.h"

namespace rr::stages {

// Video noise reduction with FFmpeg's filters in-process: hqdn3d (spatial + recursive
// temporal), nlmeans (spatial non-local means) or temporal (atadenoise, a motion-adaptive
// average over a window centred on the frame). `strength` low|medium|high picks documented
// filter settings (docs/STAGES.md).
[[nodiscard]] Result<std::unique_ptr<Stage>> make_denoise(const StageSpec& spec);

}  // namespace rr::stages
