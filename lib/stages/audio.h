#pragma once
#include <memory>

#include "core/stage_spec.h"
#include "stages/stage.h"

namespace rr::stages {

// Audio enhancement on the whole track (not per chunk): high-pass, FFT denoising, gentle
// compression and EBU R128 loudness normalisation in two passes (measure, then a linear gain
// where the true-peak limit allows it, FFmpeg's dynamic loudnorm otherwise). Video frames
// pass through untouched.
[[nodiscard]] Result<std::unique_ptr<Stage>> make_audio(const StageSpec& spec);

}  // namespace rr::stages
