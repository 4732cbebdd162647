#include "core/paths.h"

#include <algorithm>

namespace rr {

std::filesystem::path folder_key(const std::filesystem::path& p) {
    auto n = p.lexically_normal();
    return n.has_filename() || !n.has_relative_path() ? n : n.parent_path();
}

bool path_within(const std::filesystem::path& inner, const std::filesystem::path& outer) {
    const auto i = folder_key(inner), o = folder_key(outer);
    return std::mismatch(o.begin(), o.end(), i.begin(), i.end()).first == o.end();
}

std::optional<std::filesystem::path> relative_under(const std::filesystem::path& root,
                                                    const std::filesystem::path& path) {
    std::error_code ec;
    const auto p = std::filesystem::weakly_canonical(path, ec);
    if (ec) return std::nullopt;
    const auto r = std::filesystem::weakly_canonical(root, ec);
    if (ec) return std::nullopt;
    auto rel = p.lexically_relative(r);
    if (rel.empty() || *rel.begin() == "..") return std::nullopt;
    return rel;
}

std::string outside_storage_root(const std::filesystem::path& path,
                                 const std::filesystem::path& root) {
    return path.string() + " is outside storage.root " + root.string() +
           ": in cluster mode every node must reach a job's files (put it on the share, under "
           "storage.root)";
}

}  // namespace rr
