#pragma once
// Loudness of a whole audio stream as EBU R128 defines it (ITU-R BS.1770 gating), measured by
// FFmpeg's ebur128 filter in true-peak mode after an optional filter chain.

#include <nlohmann/json.hpp>
#include <stop_token>
#include <string>

#include "core/result.h"
#include "media/mapped_file.h"

namespace rr::media {

struct Loudness {
    double integrated = -70.0;  // LUFS, gated
    double true_peak = -99.0;   // dBTP (4x oversampled peak)
    double lra = 0.0;           // loudness range, LU
    double threshold = -70.0;   // the relative gate of the integrated measurement, LUFS
    double quiet = -70.0;       // 10th percentile of the 400 ms blocks above -70: the pauses
    double seconds = 0.0;       // audio measured

    [[nodiscard]] nlohmann::json to_json() const;
};

// Decodes stream `stream` of `file` from start to end, runs `filter` ("" = none) and measures.
[[nodiscard]] Result<Loudness> measure_loudness(const MappedFile& file, int stream,
                                                const std::string& filter, std::stop_token stop);

}  // namespace rr::media
