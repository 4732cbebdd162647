#pragma once
// The cluster's edges of `renderrushd`: what --check-config checks beyond the file in cluster
// mode, and `renderrushd cluster init`.

#include <filesystem>
#include <optional>

#include "core/config.h"

namespace rr::app {

// The database answers and its schema is this build's (an older one is migrated when a node
// starts); cluster.work_dir is writable; the storage marker is reported. Prints one line per
// check; false when any failed.
[[nodiscard]] bool check_cluster(const Config& cfg);

// `renderrushd cluster init`: the queue schema, the cluster id in the database, and the
// storage marker under storage.root holding it (written once, never replaced by another id).
// Exit 0, 1 (database, storage or a marker of another cluster), 2 (no cluster: section).
[[nodiscard]] int run_cluster_init(const Config& cfg);

}  // namespace rr::app
