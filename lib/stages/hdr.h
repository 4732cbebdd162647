#pragma once
#include <memory>

#include "core/stage_spec.h"
#include "stages/stage.h"

namespace rr::stages {

// HDR handling. `tonemap`: PQ or HLG BT.2020 pictures to SDR BT.709 (libavfilter's zscale
// for linearisation, gamut conversion and error-diffusion dithering to 8 bits; the tone
// curve between them), never keeping HDR tags or metadata. `passthrough`: keeps 10-bit HDR
// with its mastering metadata through a 10-bit HEVC encode. `sdr_boost`: local tone mapping
// that gives SDR pictures an HDR-like look.
[[nodiscard]] Result<std::unique_ptr<Stage>> make_hdr(const StageSpec& spec);

}  // namespace rr::stages
