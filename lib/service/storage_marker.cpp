#include "service/storage_marker.h"

#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>

#include "core/atomic_file.h"

namespace rr::service {

std::filesystem::path storage_marker_path(const std::filesystem::path& root) {
    return root / ".renderrush-cluster";
}

Result<std::optional<std::string>> read_storage_marker(const std::filesystem::path& root) {
    const auto path = storage_marker_path(root);
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
        if (ec) return make_error(Errc::io, path.string() + ": " + ec.message());
        return std::optional<std::string>();
    }
    std::ifstream in(path);
    std::string id;
    if (!in || !std::getline(in, id)) return make_error(Errc::io, path.string() + ": unreadable");
    while (!id.empty() && (id.back() == '\r' || id.back() == ' ')) id.pop_back();
    return std::optional<std::string>(id);
}

Status write_storage_marker(const std::filesystem::path& root, const std::string& cluster_id) {
    RR_ASSIGN(auto existing, read_storage_marker(root));
    if (existing) {
        if (*existing == cluster_id) return {};
        return make_error(Errc::conflict, storage_marker_path(root).string() +
                                              " belongs to cluster " + *existing +
                                              ", not to this database's cluster " + cluster_id +
                                              "; it is never overwritten");
    }
    return write_file_atomic(storage_marker_path(root), cluster_id + "\n");
}

std::optional<std::string> storage_problem(const std::filesystem::path& root,
                                           const std::optional<std::string>& cluster_id) {
    if (!cluster_id) return "the cluster is not initialised (run `renderrushd cluster init` once)";
    auto marker = read_storage_marker(root);
    if (!marker) return "cannot read the storage marker: " + marker.error().message;
    if (!*marker)
        return "storage marker " + storage_marker_path(root).string() +
               " is missing (is the shared storage mounted at storage.root?)";
    if (**marker != *cluster_id)
        return "storage marker " + storage_marker_path(root).string() + " belongs to cluster " +
               **marker + ", this database is cluster " + *cluster_id;
    return std::nullopt;
}

std::string new_cluster_id() {
    std::random_device rd;
    char buf[33] = {};
    for (int i = 0; i < 4; ++i) std::snprintf(buf + i * 8, 9, "%08x", rd());
    return buf;
}

}  // namespace rr::service
