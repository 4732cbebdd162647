#pragma once
// Where an input's audio is audible: the first and last moments its level rises above a
// threshold. Used to trim silence at the ends without cutting into sound.

#include <stop_token>

#include "core/result.h"
#include "media/mapped_file.h"

namespace rr::media {

struct SoundSpan {
    bool has_audio = false;  // the input has a decodable audio stream
    bool audible = false;    // some of it rises above the threshold
    double first = 0;        // seconds (the stream's own timeline) where sound starts
    double last = 0;         // ... and where it ends
};

// Decodes the best audio stream once; sound is any 10 ms window (all channels mixed to mono)
// whose RMS level is above `threshold_db` dBFS.
[[nodiscard]] Result<SoundSpan> find_sound(const MappedFile& input, double threshold_db,
                                           std::stop_token stop = {});

}  // namespace rr::media
