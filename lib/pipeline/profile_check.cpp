#include "pipeline/profile_check.h"

#include "media/container.h"
#include "media/encoder.h"
#include "stages/factory.h"

namespace rr::pipeline {
namespace {

// A picture every encoder accepts, in the profile's pixel format.
media::FrameFormat probe_format(const VideoSettings& video) {
    media::FrameFormat f;
    f.width = 1280;
    f.height = 720;
    f.pix_fmt = media::output_pix_fmt(video, 8);
    f.time_base = {1, 25};
    f.frame_rate = {25, 1};
    return f;
}

Result<media::EncoderChoice> open_encoder(const VideoSettings& video) {
    return media::choose_encoder(video, probe_format(video), null_logger());
}

// Which setting an encoder refused: the one whose default makes it open.
std::string blame(const VideoSettings& video) {
    VideoSettings s = video;
    if (s.preset != "medium") {
        s.preset = "medium";
        if (open_encoder(s)) return "video.preset";
        s.preset = video.preset;
    }
    if (!s.pix_fmt.empty()) {
        s.pix_fmt.clear();
        if (open_encoder(s)) return "video.pix_fmt";
    }
    return "video";
}

}  // namespace

std::vector<ProfileProblem> check_profile_stages(const Profile& profile,
                                                 const std::filesystem::path& models_dir) {
    std::vector<ProfileProblem> problems;
    const stages::StageEnv env{models_dir, null_logger()};
    for (size_t i = 0; i < profile.stages.size(); ++i) {
        auto made = stages::make_stage(profile.stages[i], env);
        if (!made) problems.push_back({"stages[" + std::to_string(i) + "]", made.error().message});
    }
    return problems;
}

std::vector<ProfileProblem> check_profile_runs(const Profile& profile,
                                               const std::filesystem::path& models_dir,
                                               std::string* encoder) {
    auto problems = check_profile_stages(profile, models_dir);
    if (Status st = media::check_container_codecs(profile.container, profile.video.codec,
                                                  profile.audio.codec);
        !st) {
        problems.push_back({"container", st.error().message});
    }
    auto choice = open_encoder(profile.video);
    if (!choice) {
        const std::string setting = blame(profile.video);
        std::string what = "the encoder refused these settings";
        if (setting == "video.preset")
            what = "preset '" + profile.video.preset + "' is not accepted";
        if (setting == "video.pix_fmt")
            what = "pix_fmt '" + profile.video.pix_fmt + "' is not accepted";
        problems.push_back({setting, what + " (" + std::string(to_string(profile.video.codec)) +
                                         ", hwaccel " +
                                         std::string(to_string(profile.video.hwaccel)) +
                                         "): " + choice.error().message});
    } else if (encoder) {
        *encoder = choice->name;
    }
    return problems;
}

}  // namespace rr::pipeline
