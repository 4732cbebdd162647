#include "media/container.h"

#include <string>

namespace rr::media {

Result<Container> container_for_output(const std::filesystem::path& output) {
    const std::string kAccepted = "use .mp4, .m4v, .mov, .mkv or .webm";
    if (output == "-") {
        return make_error(Errc::invalid_argument,
                          "output '-': writing to stdout is not supported (the output is seekable "
                          "MP4/Matroska); " +
                              kAccepted);
    }
    std::error_code ec;
    if (output.filename().empty() || std::filesystem::is_directory(output, ec)) {
        return make_error(
            Errc::invalid_argument,
            "output " + output.string() + " is a directory; name a file (" + kAccepted + ")");
    }
    const std::string ext = output.extension().string();
    if (auto c = container_for_extension(ext)) return *c;
    return make_error(Errc::invalid_argument,
                      "output " + output.string() + ": " +
                          (ext.empty() ? std::string("no extension")
                                       : "extension '" + ext + "' is not a container we write") +
                          "; " + kAccepted);
}

Status check_container_codecs(Container container, VideoCodec video_codec, AudioCodec audio_codec) {
    if (container != Container::webm) return {};
    if (video_codec != VideoCodec::vp9 && video_codec != VideoCodec::av1) {
        return make_error(Errc::invalid_argument,
                          "WebM holds VP9 or AV1 video, not " +
                              std::string(to_string(video_codec)) +
                              " (use --codec vp9 or --codec av1, or an .mp4/.mkv output)");
    }
    if (audio_codec != AudioCodec::copy && audio_codec != AudioCodec::opus) {
        return make_error(Errc::invalid_argument, "WebM holds Opus audio, not " +
                                                      std::string(to_string(audio_codec)) +
                                                      " (use --audio-codec opus or copy)");
    }
    return {};
}

}  // namespace rr::media
