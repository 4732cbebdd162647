#pragma once
#include <filesystem>
#include <string>
#include <vector>

namespace rr::watch {

// Partial and hidden files are never taken: dot-files, *.part, *.tmp, *.crdownload, *~, our
// own temporaries, and names whose extension is not in `allowed` (lower case, no dot).
[[nodiscard]] bool acceptable_name(const std::filesystem::path& path,
                                   const std::vector<std::string>& allowed);

// True when `path` (after resolving symlinks) is a regular file inside `root`; symlinks that
// lead out of the watched tree are not followed.
[[nodiscard]] bool regular_file_inside(const std::filesystem::path& path,
                                       const std::filesystem::path& root);

}  // namespace rr::watch
