#pragma once
// The audio of a job, processed once for the whole file (not per chunk): every audio stream
// is either copied or decoded, filtered and encoded into an intermediate file that the
// assembler muxes with the joined video.

#include <atomic>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/result.h"
#include "media/av_handles.h"
#include "media/mapped_file.h"

namespace rr::media {

struct AudioStreamPlan {
    int input_index = -1;
    bool copy = true;
    std::string encoder;  // when not copying: aac | libopus
    std::string reason;   // why it is copied or encoded (sidecar)
    std::string filter;   // libavfilter chain applied before encoding ("" = none)
};

// An audio stream that cannot come out at all, and why (the sidecar lists it).
struct DroppedAudio {
    int input_index = -1;
    std::string reason;
};

struct AudioPlan {
    std::vector<AudioStreamPlan> streams;
    std::vector<DroppedAudio> dropped;
    int64_t bitrate = 160000;
    Container container = Container::mp4;  // the output's, for what a trimmed copy becomes
    [[nodiscard]] bool empty() const { return streams.empty(); }
    [[nodiscard]] nlohmann::json to_json() const;
};

// Decides per stream: copy when the codec fits the container and nothing will change the
// sound (`reencode`: audio stages will add their filters); else encode with the profile's
// codec (AAC when "copy" is impossible).
[[nodiscard]] Result<AudioPlan> plan_audio(const AVFormatContext* input,
                                           const AudioSettings& settings, Container container,
                                           bool reencode);

// Moves to `dropped` the planned streams of an MP4/MOV input whose sample table gives no
// packet at all (damaged stsz/stco): FFmpeg opens such a file and the ffmpeg CLI delivers its
// video without that stream, where writing it would fail the job.
[[nodiscard]] Status drop_unreadable_audio(const MappedFile& input, const AVFormatContext* probed,
                                           AudioPlan& plan);

// Keeps only [start, end) seconds of the input's timeline (the stream timestamps) of every
// planned stream: an atrim filter is added and copied streams are encoded instead.
void trim_audio(AudioPlan& plan, double start, std::optional<double> end,
                const AudioSettings& settings);

// Writes the planned audio streams into `out` (NUT), timestamps in the input's timeline.
[[nodiscard]] Status write_audio(const MappedFile& input, const AudioPlan& plan,
                                 const std::filesystem::path& out, std::stop_token stop);

}  // namespace rr::media
