#pragma once
#include <string>

#include "core/result.h"

namespace rr::av {

[[nodiscard]] std::string error_string(int averror);

// Wraps an FFmpeg error code as a value, keeping ENOSPC distinguishable.
[[nodiscard]] Error error(int averror, const std::string& what, Errc fallback = Errc::media);

}  // namespace rr::av
