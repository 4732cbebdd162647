#pragma once
// What a media file contains, as recorded in the sidecar's `input` and `output` objects.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "media/demuxer.h"

namespace rr::media {

struct StreamInfo {
    int index = 0;
    std::string type;  // video | audio | subtitle | data | attachment
    std::string codec;
    std::string profile;
    int64_t bit_rate = 0;
    int64_t frames = 0;  // as declared by the container, 0 if unknown
    double duration = 0;
    std::string language;
    // video
    int width = 0, height = 0;
    double fps = 0;
    std::string pix_fmt;
    int bit_depth = 0;
    std::string color_primaries, color_transfer, color_matrix, color_range;
    bool attached_picture = false;
    // audio
    int channels = 0, sample_rate = 0;
    std::string channel_layout, sample_fmt;
};

struct MediaInfo {
    std::string path;
    int64_t size = 0;
    std::string checksum;  // xxh3-128 hex
    std::string container;
    double duration = 0;
    double start_time = 0;
    int64_t bit_rate = 0;
    int chapters = 0;
    std::vector<StreamInfo> streams;

    [[nodiscard]] const StreamInfo* first(const std::string& type) const;
};

[[nodiscard]] MediaInfo describe(const Demuxer& demuxer);
[[nodiscard]] nlohmann::json to_json(const MediaInfo& info);

// Probes a finished file on disk (outputs), including its checksum.
[[nodiscard]] Result<MediaInfo> probe_file(const std::filesystem::path& path);

// Image demuxers and single-picture streams are not videos.
[[nodiscard]] bool is_still_image(const Demuxer& demuxer, int video_stream);

}  // namespace rr::media
