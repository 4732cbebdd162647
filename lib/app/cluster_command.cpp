#include "app/cluster_command.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>

#include "app/exit_codes.h"
#include "core/errno_error.h"
#include "service/cluster_node.h"
#include "service/share_space.h"
#include "service/storage_marker.h"
#include "store/task_queue.h"

namespace rr::app {
namespace {

void fail_line(const std::string& what) {
    std::fprintf(stderr, "renderrushd: cluster: %s\n", what.c_str());
}

// Creates and removes a file in `dir`, as a chunk writer would.
Status check_writable(const std::filesystem::path& dir) {
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec))
        return make_error(Errc::not_found, dir.string() + " is not a folder");
    std::string probe = (dir / ".rr-check-XXXXXX").string();
    const int fd = ::mkstemp(probe.data());
    if (fd < 0) return errno_error(errno, dir.string() + " is not writable");
    ::close(fd);
    ::unlink(probe.c_str());
    return {};
}

}  // namespace

bool check_cluster(const Config& cfg) {
    if (!cfg.cluster) return true;
    const auto& cl = *cfg.cluster;
    const std::string db = service::redact_conninfo(cl.database);
    bool ok = true;
    auto version = store::queue_schema_version(cl.database);
    if (!version) {
        // A setting that cannot work says why; anything else is the database not answering.
        fail_line(version.error().code == Errc::config
                      ? version.error().message
                      : "cluster.database " + db + " does not answer: " + version.error().message);
        ok = false;
    } else if (*version > store::latest_queue_schema_version()) {
        fail_line("cluster.database " + db + ": schema version " + std::to_string(*version) +
                  " is newer than this renderrushd's (" +
                  std::to_string(store::latest_queue_schema_version()) + "): upgrade this node");
        ok = false;
    } else if (*version < store::latest_queue_schema_version()) {
        std::printf(
            "cluster: database %s answers; schema version %d will be migrated to %d "
            "when a node starts (or by `renderrushd cluster init`)\n",
            db.c_str(), *version, store::latest_queue_schema_version());
    } else {
        std::printf("cluster: database %s answers; schema current (version %d)\n", db.c_str(),
                    *version);
    }
    if (Status st = check_writable(cl.work_dir); !st) {
        fail_line("cluster.work_dir " + st.error().message);
        ok = false;
    } else {
        std::printf("cluster: work_dir %s is writable\n", cl.work_dir.c_str());
        // As the node would find at its first heartbeat: a warning, since space can be freed
        // while the node runs.
        if (auto full = service::share_space_problem(cl.work_dir, cfg.min_free_mb))
            std::printf(
                "cluster: warning: %s: this node will not claim work until there is space\n",
                full->c_str());
    }
    auto marker = service::read_storage_marker(cfg.storage.root);
    if (!marker || !*marker) {
        std::printf(
            "cluster: warning: no storage marker %s: this node will not claim work "
            "(mount the share, or run `renderrushd cluster init` once)\n",
            service::storage_marker_path(cfg.storage.root).c_str());
    }
    return ok;
}

int run_cluster_init(const Config& cfg) {
    if (!cfg.cluster) {
        std::fprintf(stderr,
                     "renderrushd: cluster init: the configuration has no cluster: "
                     "section\n");
        return kExitUsage;
    }
    const auto& cl = *cfg.cluster;
    store::QueueOptions o;
    o.database = cl.database;
    o.node_id = cl.node_id;
    auto queue = store::open_task_queue(o);  // connects and applies the migrations
    if (!queue) {
        fail_line("cluster.database " + service::redact_conninfo(cl.database) + ": " +
                  queue.error().message);
        return kExitFailed;
    }
    auto marker = service::read_storage_marker(cfg.storage.root);
    if (!marker) {
        fail_line(marker.error().message);
        return kExitFailed;
    }
    auto existing = (*queue)->cluster_id();
    if (!existing) {
        fail_line(existing.error().message);
        return kExitFailed;
    }
    // A marker without an id in the database (a database re-created for the same storage)
    // lends the database its id, rather than a new one that no marker can ever match.
    std::string wanted = *existing ? **existing : (*marker ? **marker : service::new_cluster_id());
    auto id = (*queue)->init_cluster_id(wanted);
    if (!id) {
        fail_line(id.error().message);
        return kExitFailed;
    }
    std::error_code ec;
    std::filesystem::create_directories(cfg.storage.root, ec);
    if (Status st = service::write_storage_marker(cfg.storage.root, *id); !st) {
        fail_line(st.error().message);
        return kExitFailed;
    }
    std::filesystem::create_directories(cl.work_dir, ec);
    if (ec) {
        fail_line("cannot create cluster.work_dir " + cl.work_dir.string() + ": " + ec.message());
        return kExitFailed;
    }
    std::printf("cluster %s: schema version %d, storage marker %s\n", id->c_str(),
                store::latest_queue_schema_version(),
                service::storage_marker_path(cfg.storage.root).c_str());
    return kExitOk;
}

}  // namespace rr::app
