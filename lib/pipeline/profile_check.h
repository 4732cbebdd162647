#pragma once
// Whether a profile can run on this machine, checked without an input: its stages are built
// (parameters, models) and its encoder is opened with its settings as a job would open it.
// `renderrushd --check-config` reports these; the daemon disables profiles that fail to build.

#include <filesystem>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/logging.h"

namespace rr::pipeline {

struct ProfileProblem {
    std::string setting;  // where it belongs: "stages[2]", "video.preset", "video", "container"
    std::string message;
};

// Every stage that cannot be built, each with its own message.
[[nodiscard]] std::vector<ProfileProblem> check_profile_stages(
    const Profile& profile, const std::filesystem::path& models_dir);

// Stages, the container's codecs, and the encoder chosen as at run time (hwaccel resolved,
// falling back to software) and opened with the profile's codec, preset, crf and pix_fmt.
// `encoder` receives the name of the one that opened.
[[nodiscard]] std::vector<ProfileProblem> check_profile_runs(
    const Profile& profile, const std::filesystem::path& models_dir, std::string* encoder);

}  // namespace rr::pipeline
