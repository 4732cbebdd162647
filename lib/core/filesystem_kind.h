#pragma once
// What kind of file system holds a path: a SQLite queue must refuse a network one, whose
// locks and shared memory do not work across hosts (docs/CLUSTER.md, "The queue").

#include <filesystem>
#include <optional>
#include <string>

#include "core/result.h"

namespace rr {

// The network file system a statfs f_type names ("nfs", "cifs", "smb2", "smb", "ceph", "afs",
// "9p"), or none. FUSE mounts are not told apart: sshfs is remote, mergerfs is local.
[[nodiscard]] std::optional<std::string> network_filesystem_name(long f_type);

// The network file system that holds `path` (or, when it does not exist yet, its nearest
// existing parent folder); none when it is local.
[[nodiscard]] Result<std::optional<std::string>> network_filesystem_of(
    const std::filesystem::path& path);

}  // namespace rr
