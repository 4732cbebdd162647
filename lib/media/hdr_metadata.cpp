#include "media/hdr_metadata.h"

extern "C" {
#include <libavutil/frame.h>
}

#include <cmath>
#include <cstring>

#include "media/chunk_source.h"

namespace rr::media {
namespace {

double q(AVRational r) {
    return r.den ? av_q2d(r) : 0.0;
}

// x265 wants chromaticities in units of 0.00002 and luminance in units of 0.0001 cd/m².
long chroma_units(AVRational r) {
    return std::lround(q(r) * 50000.0);
}
long luma_units(AVRational r) {
    return std::lround(q(r) * 10000.0);
}

}  // namespace

double HdrMetadata::peak_nits() const {
    if (light && light->MaxCLL > 0) return light->MaxCLL;
    if (mastering && mastering->has_luminance && q(mastering->max_luminance) > 0)
        return q(mastering->max_luminance);
    return 0;
}

nlohmann::json HdrMetadata::to_json() const {
    nlohmann::json j = nlohmann::json::object();
    if (mastering) {
        const auto& m = *mastering;
        nlohmann::json md = nlohmann::json::object();
        if (m.has_primaries) {
            // FFmpeg orders the primaries R, G, B.
            md["red"] = {q(m.display_primaries[0][0]), q(m.display_primaries[0][1])};
            md["green"] = {q(m.display_primaries[1][0]), q(m.display_primaries[1][1])};
            md["blue"] = {q(m.display_primaries[2][0]), q(m.display_primaries[2][1])};
            md["white_point"] = {q(m.white_point[0]), q(m.white_point[1])};
        }
        if (m.has_luminance) {
            md["min_luminance"] = q(m.min_luminance);
            md["max_luminance"] = q(m.max_luminance);
        }
        j["mastering_display"] = md;
    }
    if (light) j["content_light"] = {{"max_cll", light->MaxCLL}, {"max_fall", light->MaxFALL}};
    return j;
}

std::string HdrMetadata::x265_params() const {
    std::string out;
    if (mastering && mastering->has_primaries && mastering->has_luminance) {
        const auto& m = *mastering;
        auto xy = [&](const AVRational* p) {
            return "(" + std::to_string(chroma_units(p[0])) + "," +
                   std::to_string(chroma_units(p[1])) + ")";
        };
        out += "master-display=G" + xy(m.display_primaries[1]) + "B" + xy(m.display_primaries[2]) +
               "R" + xy(m.display_primaries[0]) + "WP" + xy(m.white_point) + "L(" +
               std::to_string(luma_units(m.max_luminance)) + "," +
               std::to_string(luma_units(m.min_luminance)) + ")";
    }
    if (light) {
        if (!out.empty()) out += ":";
        out += "max-cll=" + std::to_string(light->MaxCLL) + "," + std::to_string(light->MaxFALL);
    }
    return out;
}

HdrMetadata HdrMetadata::from_frame(const AVFrame& frame) {
    HdrMetadata h;
    if (const AVFrameSideData* sd =
            av_frame_get_side_data(&frame, AV_FRAME_DATA_MASTERING_DISPLAY_METADATA)) {
        if (sd->size >= sizeof(AVMasteringDisplayMetadata)) {
            const auto* m = reinterpret_cast<const AVMasteringDisplayMetadata*>(sd->data);
            if (m->has_primaries || m->has_luminance) h.mastering = *m;
        }
    }
    if (const AVFrameSideData* sd =
            av_frame_get_side_data(&frame, AV_FRAME_DATA_CONTENT_LIGHT_LEVEL)) {
        if (sd->size >= sizeof(AVContentLightMetadata))
            h.light = *reinterpret_cast<const AVContentLightMetadata*>(sd->data);
    }
    return h;
}

bool is_hdr_transfer(AVColorTransferCharacteristic transfer) {
    return transfer == AVCOL_TRC_SMPTE2084 || transfer == AVCOL_TRC_ARIB_STD_B67;
}

void strip_hdr_side_data(AVFrame* frame) {
    av_frame_remove_side_data(frame, AV_FRAME_DATA_MASTERING_DISPLAY_METADATA);
    av_frame_remove_side_data(frame, AV_FRAME_DATA_CONTENT_LIGHT_LEVEL);
}

HdrMetadata read_hdr_metadata(const MappedFile& file, int video_stream, const FrameIndex& index) {
    HdrMetadata h;
    auto demuxer = Demuxer::open(file, false);
    if (demuxer) {
        const AVStream* st = demuxer->stream(video_stream);
        size_t size = 0;
        if (const uint8_t* d =
                av_stream_get_side_data(st, AV_PKT_DATA_MASTERING_DISPLAY_METADATA, &size);
            d && size >= sizeof(AVMasteringDisplayMetadata)) {
            AVMasteringDisplayMetadata m;
            std::memcpy(&m, d, sizeof m);
            h.mastering = m;
        }
        if (const uint8_t* d = av_stream_get_side_data(st, AV_PKT_DATA_CONTENT_LIGHT_LEVEL, &size);
            d && size >= sizeof(AVContentLightMetadata)) {
            AVContentLightMetadata l;
            std::memcpy(&l, d, sizeof l);
            h.light = l;
        }
    }
    if (!h.empty() || index.frames() == 0) return h;
    // Metadata is a hint: an input whose first frame cannot be decoded fails later, with the
    // decoder's reason, not here.
    auto source = ChunkSource::open(file, video_stream, index, 0, 1, 1);
    if (!source) return h;
    auto frame = source->next();
    if (!frame || !*frame) return h;
    return HdrMetadata::from_frame(**frame);
}

}  // namespace rr::media
