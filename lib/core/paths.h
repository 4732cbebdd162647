#pragma once
// Lexical path relations shared by the config checks, the watch rules and the control commands.

#include <filesystem>

namespace rr {

// True when `inner` is `outer` or lies below it, compared lexically after normalisation
// ("/in/", "/in/." and "/in" are the same folder). Callers that must see through symlinks
// pass canonical paths.
[[nodiscard]] bool path_within(const std::filesystem::path& inner,
                               const std::filesystem::path& outer);

// The normal form of a folder's path without a trailing separator, for comparing folders.
[[nodiscard]] std::filesystem::path folder_key(const std::filesystem::path& p);

}  // namespace rr
