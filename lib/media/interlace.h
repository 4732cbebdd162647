#pragma once
// Interlaced input: what the stream is (its field order, or FFmpeg's idet filter over a sample
// when the stream does not say) and what a job does about it (video.interlace).

#include <cstdint>  // before FFmpeg's headers, which need UINT64_C in C++

extern "C" {
#include <libavcodec/codec_par.h>
}

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/choices.h"
#include "core/result.h"
#include "media/frame_format.h"
#include "media/frame_index.h"
#include "media/mapped_file.h"

namespace rr::media {

// idet's multi-frame counts over the sample (its temporally smoothed verdict per frame).
struct IdetCounts {
    int64_t tff = 0;
    int64_t bff = 0;
    int64_t progressive = 0;
    int64_t undetermined = 0;
    int64_t sampled = 0;  // frames fed to idet
};

struct InterlaceDetection {
    // AV_FIELD_PROGRESSIVE, AV_FIELD_TT/BB/TB/BT, or AV_FIELD_UNKNOWN when idet could not tell.
    AVFieldOrder order = AV_FIELD_UNKNOWN;
    std::string method;  // "field_order" (the stream says) or "idet" (measured)
    std::optional<IdetCounts> idet;

    [[nodiscard]] bool interlaced() const;
    // Display order of the fields: top first (tt, bt) or bottom first (bb, tb).
    [[nodiscard]] bool top_first() const;
};

// ffprobe's spelling: progressive, tt, bb, tb, bt, unknown.
[[nodiscard]] const char* field_order_name(AVFieldOrder order);

// idet's verdict over a sample. One field order must carry at least kIdetShare of the frames idet
// decided on, and idet must have decided on at least kIdetDecided of the sample; anything else is
// progressive (too little motion to tell counts as progressive, as it looks the same either way).
// Synthetic sharp-edged patterns give idet a mix of tff and bff verdicts, real interlaced motion
// gives one order almost exclusively, hence a per-order share rather than tff + bff.
inline constexpr double kIdetShare = 0.9;
inline constexpr double kIdetDecided = 0.5;
[[nodiscard]] AVFieldOrder decide_from_idet(const IdetCounts& counts);

// Frames idet looks at when the stream's field order is unknown: this many from the middle.
inline constexpr int64_t kIdetSampleFrames = 200;

// `stream_order` (the stream's field order, as probed) when it states one; otherwise idet over
// kIdetSampleFrames decoded frames from the middle of the video.
[[nodiscard]] Result<InterlaceDetection> detect_interlace(const MappedFile& file, int video_stream,
                                                          const FrameIndex& index,
                                                          const FrameFormat& decoded,
                                                          AVFieldOrder stream_order, int threads);

enum class InterlaceAction { none, deinterlaced, kept };

// What a job does with its input's fields.
struct InterlacePlan {
    InterlaceDetection detected;
    InterlaceAction action = InterlaceAction::none;
    bool field_rate = false;  // bwdif send_field: one output frame per field
    std::string filter;       // the libavfilter chain when deinterlacing, else ""

    // Output frames per input frame: 2 when every field becomes a frame.
    [[nodiscard]] int rate_factor() const {
        return action == InterlaceAction::deinterlaced && field_rate ? 2 : 1;
    }
    // The field order the encoder codes (AV_FIELD_PROGRESSIVE unless kept).
    [[nodiscard]] AVFieldOrder encoded_order() const;
    // The sidecar's video.interlace.
    [[nodiscard]] nlohmann::json to_json() const;
};

// `mode` applied to what was detected. `keep` with interlaced input needs libx264 (H.264 in
// software); any other encoding cannot code fields here and is refused rather than relabelled.
[[nodiscard]] Result<InterlacePlan> plan_interlace(const InterlaceDetection& detected,
                                                   Interlace mode, DeinterlaceRate rate,
                                                   VideoCodec codec);

}  // namespace rr::media
