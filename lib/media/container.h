#pragma once
// Which container an output's file name asks for, and which codecs each container can hold.
// Checked before any work, so a wrong name or codec never costs an encode.

#include <filesystem>
#include <string>

#include "core/result.h"

namespace rr::media {

// The container for `output`: ".mp4 .m4v .mov" → "mp4", ".mkv" → "mkv", ".webm" → "webm".
// "-" (stdout), an existing directory, a name without a file part and any other extension are
// refused (Errc::invalid_argument) with a message naming the accepted ones.
[[nodiscard]] Result<std::string> container_for_output(const std::filesystem::path& output);

// WebM holds only VP9 or AV1 video and Opus (or Vorbis, when copied) audio; the others hold
// every codec we encode. The error names the allowed codecs.
[[nodiscard]] Status check_container_codecs(const std::string& container,
                                            const std::string& video_codec,
                                            const std::string& audio_codec);

}  // namespace rr::media
