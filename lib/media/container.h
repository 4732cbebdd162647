#pragma once
// Which container an output's file name asks for, and which codecs each container can hold.
// Checked before any work, so a wrong name or codec never costs an encode.

#include <filesystem>

#include "core/choices.h"
#include "core/result.h"

namespace rr::media {

// The container for `output`, by its extension (container_for_extension). "-" (stdout), an
// existing directory, a name without a file part and any extension we do not write are refused
// (Errc::invalid_argument) with a message naming the accepted ones.
[[nodiscard]] Result<Container> container_for_output(const std::filesystem::path& output);

// WebM holds only VP9 or AV1 video and Opus (or Vorbis, when copied) audio; the others hold
// every codec we encode. The error names the allowed codecs.
[[nodiscard]] Status check_container_codecs(Container container, VideoCodec video_codec,
                                            AudioCodec audio_codec);

}  // namespace rr::media
