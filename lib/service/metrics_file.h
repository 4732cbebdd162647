#pragma once
// The node exporter textfile (metrics.textfile_path): replaced whole on every write, readable
// by everyone, gone after a clean stop.

#include <filesystem>
#include <string_view>

#include "core/result.h"

namespace rr::service {

// Mode 0644 explicitly: the unit's UMask=0027 would leave the file unreadable for the
// `prometheus` user node exporter runs as. Temp name + rename: never half a file.
[[nodiscard]] Status write_metrics_textfile(const std::filesystem::path& path,
                                            std::string_view text);
// A stopped daemon must not keep exporting its last values as if they were current.
[[nodiscard]] Status remove_metrics_textfile(const std::filesystem::path& path);

}  // namespace rr::service
