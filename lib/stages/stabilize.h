#pragma once
#include <memory>

#include "core/stage_spec.h"
#include "stages/stage.h"

namespace rr::stages {

// Video stabilisation in two passes: camera motion is estimated chunk-parallel during the
// analysis pass (each chunk also looks at the previous chunk's last frame), the camera path
// of the whole video is smoothed at once, then every chunk warps its frames by the
// correction (zooming to hide the borders, or leaving them black).
[[nodiscard]] Result<std::unique_ptr<Stage>> make_stabilize(const StageSpec& spec);

}  // namespace rr::stages
