#pragma once
// HDR10 static metadata: the mastering display (SMPTE ST 2086) and content light levels
// (CTA-861.3 MaxCLL/MaxFALL). Carried with a stream's format so stages can read it (tone
// mapping takes its peak from it), drop it (SDR output never carries it) or keep it (the
// encoder and the container then both get it).

extern "C" {
#include <libavutil/mastering_display_metadata.h>
#include <libavutil/pixfmt.h>
}

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

struct AVFrame;

namespace rr::media {

struct HdrMetadata {
    std::optional<AVMasteringDisplayMetadata> mastering;
    std::optional<AVContentLightMetadata> light;

    [[nodiscard]] bool empty() const { return !mastering && !light; }
    // The brightest level the content reaches in cd/m²: MaxCLL when known (it describes the
    // content itself), else the mastering display's peak; 0 when neither is known.
    [[nodiscard]] double peak_nits() const;
    [[nodiscard]] nlohmann::json to_json() const;
    // x265's `master-display=...:max-cll=...` parameters ("" when empty).
    [[nodiscard]] std::string x265_params() const;
    // Reads what a decoded frame carries as side data.
    [[nodiscard]] static HdrMetadata from_frame(const AVFrame& frame);
};

// PQ (SMPTE ST 2084) and HLG (ARIB STD-B67) are the HDR transfer functions.
[[nodiscard]] bool is_hdr_transfer(AVColorTransferCharacteristic transfer);

// Removes HDR side data from a frame (a tone-mapped picture must not claim it).
void strip_hdr_side_data(AVFrame* frame);

class MappedFile;
struct FrameIndex;
// The metadata of an input's video stream: the container's stream side data, else what the
// first decoded frame carries (HEVC and AV1 keep it in the bitstream, which MP4 files written
// by FFmpeg do not repeat at container level). Only worth asking for HDR transfers.
[[nodiscard]] HdrMetadata read_hdr_metadata(const MappedFile& file, int video_stream,
                                            const FrameIndex& index);

}  // namespace rr::media
