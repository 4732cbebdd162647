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
    // False when timestamps are missing or ambiguous: the input then runs as one chunk and
    // frames are taken as the decoder delivers them.
    bool exact = true;

    [[nodiscard]] size_t frames() const { return pts.size(); }
    // Index of the frame with timestamp `ts`, or -1.
    [[nodiscard]] int64_t frame_at(int64_t ts) const;
    // The latest key packet whose pts is <= ts (keys.front() if none precedes it).
    [[nodiscard]] const KeyPacket* key_before(int64_t ts) const;
    [[nodiscard]] bool is_key_frame(size_t frame) const;
    [[nodiscard]] double seconds(int64_t ts) const;  // relative to the first frame
};

[[nodiscard]] Result<FrameIndex> build_frame_index(Demuxer& demuxer, int video_stream,
                                                   size_t file_size);

}  // namespace rr::media
