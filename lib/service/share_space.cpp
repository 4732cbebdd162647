#include "service/share_space.h"

#include <fmt/format.h>

#include "core/free_space.h"

namespace rr::service {

std::optional<std::string> share_space_problem(const std::filesystem::path& work_dir,
                                               int64_t min_free_mb) {
    if (min_free_mb <= 0) return std::nullopt;
    const auto bytes = free_bytes(work_dir);
    if (!bytes) return std::nullopt;
    const int64_t free_mb = *bytes / (1024 * 1024);
    if (free_mb >= min_free_mb) return std::nullopt;
    return fmt::format(
        "work_dir {} has {} MB free, below min_free_mb {} (the share is nearly full)",
        work_dir.string(), free_mb, min_free_mb);
}

}  // namespace rr::service
