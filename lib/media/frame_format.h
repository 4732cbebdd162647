#pragma once
// The shape of the pictures flowing between decoder, stages and encoder.

extern "C" {
#include <libavutil/pixfmt.h>
#include <libavutil/rational.h>
}

#include <string>

#include "media/hdr_metadata.h"

struct AVFrame;

namespace rr::media {

struct FrameFormat {
    int width = 0;
    int height = 0;
    AVPixelFormat pix_fmt = AV_PIX_FMT_NONE;
    AVRational time_base{1, 1};
    AVRational frame_rate{0, 1};
    AVRational sample_aspect{1, 1};
    AVColorPrimaries primaries = AVCOL_PRI_UNSPECIFIED;
    AVColorTransferCharacteristic transfer = AVCOL_TRC_UNSPECIFIED;
    AVColorSpace matrix = AVCOL_SPC_UNSPECIFIED;
    AVColorRange range = AVCOL_RANGE_UNSPECIFIED;
    // HDR10 static metadata of the stream; stages that change the transfer drop or replace it.
    HdrMetadata hdr;

    [[nodiscard]] std::string describe() const;  // "1920x1080 yuv420p bt709/tv"
    [[nodiscard]] int bit_depth() const;
    // Copies the colour description onto a frame (converters must not lose it).
    void tag(AVFrame* frame) const;
};

}  // namespace rr::media
