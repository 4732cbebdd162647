#pragma once
// Free space where every node writes its chunk intermediates (cluster.work_dir, on the share).
// A chunk claimed while the share is nearly full fails with ENOSPC and spends one of its
// attempts on every node that takes it, so one full share would fail the farm's whole queue
// within a few back-offs. Below min_free_mb a node claims nothing instead and says why, as it
// does without its storage marker, and claims again once space is back.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace rr::service {

// Why `work_dir` is too full to claim work (free space below `min_free_mb`); nullopt when it
// is not, when min_free_mb is 0, or when its free space cannot be read (a share that is not
// mounted is the storage marker's to report).
[[nodiscard]] std::optional<std::string> share_space_problem(const std::filesystem::path& work_dir,
                                                             int64_t min_free_mb);

}  // namespace rr::service
