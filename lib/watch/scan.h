#pragma once
#include <filesystem>
#include <vector>

namespace rr::watch {

// Every file below `root` (one level unless recursive), skipping hidden directories.
[[nodiscard]] std::vector<std::filesystem::path> scan_files(const std::filesystem::path& root,
                                                            bool recursive);

}  // namespace rr::watch
