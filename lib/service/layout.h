#pragma once
// Where the daemon keeps and puts things, derived from the configuration.

#include <filesystem>
#include <optional>
#include <string>

#include "core/config.h"
#include "core/result.h"

namespace rr::service {

[[nodiscard]] std::filesystem::path database_path(const Config& cfg);
[[nodiscard]] std::filesystem::path work_root(const Config& cfg);
[[nodiscard]] std::filesystem::path job_work_dir(const Config& cfg, int64_t job_id);
// A node without a `cluster:` section runs its jobs as a cluster of one: `cfg` with a cluster
// on a SQLite queue in the state folder, its chunk files under it, and the whole file system
// as its storage root. The same queue code then drives one node and N.
[[nodiscard]] Config with_local_cluster(const Config& cfg);
// Whether this node is a cluster of one: a node without a `cluster:` section, which runs its
// jobs through the same queue code as a farm node, on a SQLite queue of its own in its state
// folder (with_local_cluster). Nothing is shared with another node, so it checks no storage
// marker, takes its node id back at start at once, names no node in chunk rows, results or the
// sidecar, and shows operators no cluster. True of the configuration as read (no section) and
// as its queue runs it (with_local_cluster's, whose section is not `shared`). Every part that
// behaves differently for a cluster of one asks this.
[[nodiscard]] inline bool cluster_of_one(const Config& cfg) {
    return !cfg.cluster || !cfg.cluster->shared;
}

// How watch roots are compared with a path: as configured (inotify and scans build their paths
// from those spellings) or with symlinks resolved (a path a user gave, after realpath).
enum class RootSpelling { configured, resolved };
// The watch a path belongs to (the deepest watch root containing it), if any.
[[nodiscard]] const Watch* watch_for(const Config& cfg, const std::filesystem::path& path,
                                     RootSpelling roots = RootSpelling::configured);
// Whether a resolved path lies in one of `submit_roots` (resolved too).
[[nodiscard]] bool in_submit_roots(const Config& cfg, const std::filesystem::path& resolved);
[[nodiscard]] const Watch* watch_by_path(const Config& cfg, const std::string& path);
// The file's path below the watch root.
[[nodiscard]] std::filesystem::path relative_to(const Watch& watch,
                                                const std::filesystem::path& file);
// The profile for a file: the watch's, or for `by-folder` the name of its first subfolder, or
// the watch's default_profile for a file at the top of it (`top_level` says which).
struct ProfileChoice {
    std::string name;
    bool top_level = false;
};
[[nodiscard]] ProfileChoice profile_for(const Watch& watch, const std::filesystem::path& file);
// outbox/<relative dir>/<stem>.<mp4|mkv>
[[nodiscard]] std::filesystem::path output_for(const Watch& watch,
                                               const std::filesystem::path& file,
                                               Container container);
// A file submitted from a submit root: <submit_output>/<stem>.<ext>, or beside it as
// <stem>.<profile>.<ext> so several profiles of one file do not collide.
[[nodiscard]] std::filesystem::path submit_output_for(const Config& cfg,
                                                      const std::filesystem::path& file,
                                                      const std::string& profile,
                                                      Container container);
[[nodiscard]] std::filesystem::path done_path_for(const Watch& watch,
                                                  const std::filesystem::path& file);
[[nodiscard]] std::filesystem::path failed_path_for(const Watch& watch,
                                                    const std::filesystem::path& file);

}  // namespace rr::service
