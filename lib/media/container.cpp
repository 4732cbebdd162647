#include "media/container.h"

#include <cctype>

namespace rr::media {

Result<std::string> container_for_output(const std::filesystem::path& output) {
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
    std::string ext = output.extension().string();
    for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (ext == ".mp4" || ext == ".m4v" || ext == ".mov") return std::string("mp4");
    if (ext == ".mkv") return std::string("mkv");
    if (ext == ".webm") return std::string("webm");
    return make_error(Errc::invalid_argument,
                      "output " + output.string() + ": " +
                          (ext.empty() ? std::string("no extension")
                                       : "extension '" + ext + "' is not a container we write") +
                          "; " + kAccepted);
}

Status check_container_codecs(const std::string& container, const std::string& video_codec,
                              const std::string& audio_codec) {
    if (container != "webm") return {};
    if (video_codec != "vp9" && video_codec != "av1") {
        return make_error(Errc::invalid_argument,
                          "WebM holds VP9 or AV1 video, not " + video_codec +
                              " (use --codec vp9 or --codec av1, or an .mp4/.mkv output)");
    }
    if (audio_codec != "copy" && audio_codec != "opus") {
        return make_error(Errc::invalid_argument, "WebM holds Opus audio, not " + audio_codec +
                                                      " (use --audio-codec opus or copy)");
    }
    return {};
}

}  // namespace rr::media
