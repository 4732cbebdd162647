#pragma once
// The storage marker: a file at the top of the shared storage holding the cluster's id,
// written once by `renderrushd cluster init`. A node that does not find it (the share is not
// mounted, so storage.root is an empty mount point) or finds another cluster's id must not
// claim work: what it would write would land on the wrong disk.

#include <filesystem>
#include <optional>
#include <string>

#include "core/result.h"

namespace rr::service {

[[nodiscard]] std::filesystem::path storage_marker_path(const std::filesystem::path& root);

// The id in the marker; nullopt when there is no marker. Errors: unreadable.
[[nodiscard]] Result<std::optional<std::string>> read_storage_marker(
    const std::filesystem::path& root);

// Writes the marker once: Errc::conflict when it already holds another id; writing the same
// id again changes nothing.
[[nodiscard]] Status write_storage_marker(const std::filesystem::path& root,
                                          const std::string& cluster_id);

// Why this node must not claim (the marker missing, or not `cluster_id`); nullopt when the
// storage is the cluster's.
[[nodiscard]] std::optional<std::string> storage_problem(
    const std::filesystem::path& root, const std::optional<std::string>& cluster_id);

// A new random cluster id (128 bits, hex).
[[nodiscard]] std::string new_cluster_id();

}  // namespace rr::service
