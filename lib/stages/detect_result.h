#pragma once
// Turns the detect stage's per-chunk records into its result: one timeline of frames with
// track ids that hold across chunk boundaries, and a summary of the tracks per label.
//
// Chunks run independently, so each numbers its tracks from 1. Every chunk after the first
// also saw the previous chunk's last frames as preroll ("overlap"); a local track is the
// continuation of the previous chunk's track it overlaps (IoU, same label) on those very
// frames. Ids are then renumbered 1, 2, ... in order of first appearance.
//
// Chunk record: {"frames": [{"frame", "pts", "objects": [...]}], "overlap": [{"pts",
// "objects"}]}; an object is {"label", "score", "box": [x, y, w, h], "track", "tracked"}.

#include <nlohmann/json.hpp>
#include <vector>

extern "C" {
#include <libavutil/rational.h>
}

namespace rr::stages {

// `chunks` in order (null entries are skipped). Frame numbers and times are made relative to
// the first frame of the first chunk (the output's first frame).
[[nodiscard]] nlohmann::json merge_detections(const std::vector<nlohmann::json>& chunks,
                                              AVRational time_base);

}  // namespace rr::stages
