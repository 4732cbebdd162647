#pragma once
// Lexical path relations shared by the config checks, the watch rules and the control commands.

#include <filesystem>
#include <optional>
#include <string>

namespace rr {

// True when `inner` is `outer` or lies below it, compared lexically after normalisation
// ("/in/", "/in/." and "/in" are the same folder). Callers that must see through symlinks
// pass canonical paths.
[[nodiscard]] bool path_within(const std::filesystem::path& inner,
                               const std::filesystem::path& outer);

// The normal form of a folder's path without a trailing separator, for comparing folders.
[[nodiscard]] std::filesystem::path folder_key(const std::filesystem::path& p);

// `path` relative to `root` ("." for the root itself) when it lies there once symlinks and
// dot segments are resolved as far as the path exists (weakly_canonical); none outside, or
// when the file system cannot be asked. Cluster nodes store files on the shared storage this
// way, each mapping them under its own storage.root.
[[nodiscard]] std::optional<std::filesystem::path> relative_under(
    const std::filesystem::path& root, const std::filesystem::path& path);

// Why `path` cannot take part in cluster work (relative_under found it outside `root`), worded
// once for the config check and for a job whose file is outside anyway.
[[nodiscard]] std::string outside_storage_root(const std::filesystem::path& path,
                                               const std::filesystem::path& root);

}  // namespace rr
