#pragma once
// Intermediate files (chunks, audio) are NUT, which cannot store negative timestamps and would
// otherwise shift a whole file to avoid them (B-frame decode times, AAC priming, negative
// start times). Every intermediate timestamp is therefore written one hour later than its
// place on the source timeline, and the assembler takes that hour off again.

extern "C" {
#include <libavutil/avutil.h>
#include <libavutil/mathematics.h>
}

#include <cstdint>

namespace rr::media {

inline constexpr int64_t kIntermediateOffsetUs = int64_t{3600} * AV_TIME_BASE;

[[nodiscard]] inline int64_t intermediate_offset(AVRational tb) {
    return av_rescale_q(kIntermediateOffsetUs, AV_TIME_BASE_Q, tb);
}

inline constexpr const char* kIntermediateMuxer = "nut";

}  // namespace rr::media
