#pragma once
#include <filesystem>
#include <optional>
#include <stop_token>
#include <string>

namespace rr::app {

// Settings given on the command line; each one set overrides the profile's.
struct EncodeOverrides {
    std::optional<std::string> codec;    // a VideoCodec spelling: h264 | hevc | av1 | vp9
    std::optional<int> crf;              // 0..63
    std::optional<std::string> preset;   // x264 names (mapped for SVT-AV1, NVENC, libvpx)
    std::optional<std::string> hwaccel;  // auto | none | qsv | vaapi | nvenc
    std::optional<std::string> pix_fmt;
    std::optional<std::string> audio_codec;  // copy | aac | opus
    std::optional<std::string> audio_bitrate;
};

struct ProcessArgs {
    std::filesystem::path input;
    std::filesystem::path output;
    std::optional<std::filesystem::path> config;
    std::optional<std::string> profile;
    std::optional<std::string> stages;
    std::optional<int> workers;
    std::optional<double> chunk_seconds;
    EncodeOverrides encode;
    bool overwrite = false;  // -y: replace an existing output
    bool dry_run = false;    // probe and plan, print, write nothing
    bool list_stages = false;
    bool list_profiles = false;
    bool json = false;
    std::string log_level;  // empty: from config
};

// `renderrushd process`: returns the process exit status (0 ok, 1 failed, 2 usage/config).
[[nodiscard]] int run_process_command(const ProcessArgs& args, std::stop_token stop);

}  // namespace rr::app
