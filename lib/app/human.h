#pragma once
// Humanised output for renderrushctl: sizes, durations, ages, aligned tables.

#include <cstdint>
#include <string>
#include <vector>

namespace rr::app {

[[nodiscard]] std::string human_size(int64_t bytes);       // "1.5 GiB"
[[nodiscard]] std::string human_duration(double seconds);  // "1h02m", "3m05s", "12s"
[[nodiscard]] std::string human_age(double unix_seconds);  // "5m ago"
[[nodiscard]] std::string ellipsize_left(const std::string& s, size_t width);  // "…/deep/path.mov"

// Columns padded to their widest cell; the last column is not padded.
[[nodiscard]] std::string table(const std::vector<std::string>& header,
                                const std::vector<std::vector<std::string>>& rows);

}  // namespace rr::app
