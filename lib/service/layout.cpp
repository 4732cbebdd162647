#include "service/layout.h"

#include <iterator>

#include "core/paths.h"

namespace rr::service {
std::filesystem::path database_path(const Config& cfg) {
    return cfg.paths.state_dir / "renderrush.db";
}
std::filesystem::path work_root(const Config& cfg) {
    return cfg.paths.state_dir / "work";
}
std::filesystem::path job_work_dir(const Config& cfg, int64_t job_id) {
    return work_root(cfg) / ("job-" + std::to_string(job_id));
}
Config with_local_cluster(const Config& cfg) {
    Config local = cfg;
    ClusterSettings c;
    c.database = "sqlite:" + (cfg.paths.state_dir / "local-queue.db").string();
    c.node_id = "local";
    c.work_dir = cfg.paths.state_dir / "queue-work";
    c.shared = false;
    local.cluster = c;
    local.storage.root = "/";
    return local;
}

const Watch* watch_for(const Config& cfg, const std::filesystem::path& path, RootSpelling roots) {
    const Watch* best = nullptr;
    size_t depth = 0;
    for (const auto& w : cfg.watches) {
        std::filesystem::path root = w.path;
        if (roots == RootSpelling::resolved) {
            std::error_code ec;
            root = std::filesystem::canonical(w.path, ec);
            if (ec) continue;  // a watch that does not exist holds nothing
        }
        const auto n = static_cast<size_t>(std::distance(root.begin(), root.end()));
        if (path_within(path, root) && (!best || n > depth)) {
            best = &w;
            depth = n;
        }
    }
    return best;
}

bool in_submit_roots(const Config& cfg, const std::filesystem::path& resolved) {
    for (const auto& r : cfg.submit_roots) {
        std::error_code ec;
        const auto root = std::filesystem::canonical(r, ec);
        if (!ec && path_within(resolved, root)) return true;
    }
    return false;
}

const Watch* watch_by_path(const Config& cfg, const std::string& path) {
    const auto key = folder_key(path);
    for (const auto& w : cfg.watches) {
        if (folder_key(w.path) == key) return &w;
    }
    return nullptr;
}

std::filesystem::path relative_to(const Watch& watch, const std::filesystem::path& file) {
    return file.lexically_normal().lexically_relative(watch.path.lexically_normal());
}

ProfileChoice profile_for(const Watch& watch, const std::filesystem::path& file) {
    if (watch.profile != "by-folder") return {watch.profile, false};
    const auto rel = relative_to(watch, file);
    if (std::distance(rel.begin(), rel.end()) < 2) return {watch.default_profile, true};
    return {rel.begin()->string(), false};
}

std::filesystem::path output_for(const Watch& watch, const std::filesystem::path& file,
                                 Container container) {
    auto rel = relative_to(watch, file);
    rel.replace_extension(container_extension(container));
    return watch.output / rel;
}

std::filesystem::path submit_output_for(const Config& cfg, const std::filesystem::path& file,
                                        const std::string& profile, Container container) {
    const std::string ext(container_extension(container));
    return cfg.submit_output.empty()
               ? file.parent_path() / (file.stem().string() + "." + profile + ext)
               : cfg.submit_output / (file.stem().string() + ext);
}

std::filesystem::path done_path_for(const Watch& watch, const std::filesystem::path& file) {
    return watch.done_dir / relative_to(watch, file);
}

std::filesystem::path failed_path_for(const Watch& watch, const std::filesystem::path& file) {
    return watch.failed_dir / relative_to(watch, file);
}

}  // namespace rr::service
