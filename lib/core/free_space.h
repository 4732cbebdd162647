#pragma once
// Free space on the file system holding a path, as an unprivileged writer sees it (f_bavail:
// the blocks reserved for root do not count).

#include <cstdint>
#include <filesystem>
#include <optional>

namespace rr {

// Bytes free for this process under `path`; nullopt when it cannot be read (no such path).
[[nodiscard]] std::optional<int64_t> free_bytes(const std::filesystem::path& path);

}  // namespace rr
