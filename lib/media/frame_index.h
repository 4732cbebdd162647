#pragma once
// Every video frame of an input, by presentation timestamp, plus where decoding can start.
// Built by demuxing packets only (no decoding), so it costs little more than reading the file.

#include <cstdint>
#include <vector>

#include "core/result.h"
#include "media/demuxer.h"

namespace rr::media {

struct KeyPacket {
    int64_t pts = 0;
    int64_t dts = 0;  // AV_NOPTS_VALUE when the container gives none
};

struct FrameIndex {
    AVRational time_base{1, 1};
    std::vector<int64_t> pts;     // sorted; one entry per frame that will be presented
    std::vector<KeyPacket> keys;  // sorted by pts; decoding may start at any of these
    int64_t last_duration = 0;    // duration of the final frame, in time_base
    int64_t declared_frames = 0;  // what the container claims, 0 if unknown
    // Frames the container promises that the file no longer holds (a cut-off file).
    int64_t missing_at_end = 0;
    // False when timestamps are missing or ambiguous: the input then runs as one chunk and
    // the decoder's frames, in output order, take the slots of `pts` one by one. Without
    // presentation times (AVI: decode-order counters only) the slots are the packets' decode
    // times, which for a constant-rate container are the same set of instants.
    bool exact = true;

    [[nodiscard]] size_t frames() const { return pts.size(); }
    // Index of the frame with timestamp `ts`, or -1.
    [[nodiscard]] int64_t frame_at(int64_t ts) const;
    // The latest key packet whose pts is <= ts (keys.front() if none precedes it).
    [[nodiscard]] const KeyPacket* key_before(int64_t ts) const;
    [[nodiscard]] bool is_key_frame(size_t frame) const;
    [[nodiscard]] double seconds(int64_t ts) const;  // relative to the first frame
};

// A file cut short is refused ("truncated: only N of M video frames are present") unless
// `accept_truncated`; then the frames present are indexed and the rest is `missing_at_end`.
// A read error part-way is treated the same way: what came before it is the file.
[[nodiscard]] Result<FrameIndex> build_frame_index(Demuxer& demuxer, int video_stream,
                                                   size_t file_size, bool accept_truncated = false);

}  // namespace rr::media
