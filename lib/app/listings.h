#pragma once
// `renderrushd process --list-stages | --list-profiles`: what can be asked for, one line each
// for people, or JSON for scripts.

#include <string>

#include "core/config.h"

namespace rr::app {

[[nodiscard]] std::string list_stages(bool json);
[[nodiscard]] std::string list_profiles(const Config& config, bool json);

}  // namespace rr::app
