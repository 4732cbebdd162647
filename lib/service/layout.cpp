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

const Watch* watch_for(const Config& cfg, const std::filesystem::path& path) {
    const Watch* best = nullptr;
    size_t depth = 0;
    for (const auto& w : cfg.watches) {
        const auto n = std::distance(w.path.begin(), w.path.end());
        if (path_within(path, w.path) && (!best || static_cast<size_t>(n) > depth)) {
            best = &w;
            depth = static_cast<size_t>(n);
        }
    }
    return best;
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

Result<std::string> profile_for(const Watch& watch, const std::filesystem::path& file) {
    if (watch.profile != "by-folder") return watch.profile;
    const auto rel = relative_to(watch, file);
    if (std::distance(rel.begin(), rel.end()) < 2) {
        return make_error(Errc::config, "watch " + watch.path.string() +
                                            " takes its profile from the first subfolder; " +
                                            file.filename().string() + " is not in one");
    }
    return rel.begin()->string();
}

std::filesystem::path output_for(const Watch& watch, const std::filesystem::path& file,
                                 Container container) {
    auto rel = relative_to(watch, file);
    rel.replace_extension(container_extension(container));
    return watch.output / rel;
}

std::filesystem::path done_path_for(const Watch& watch, const std::filesystem::path& file) {
    return watch.done_dir / relative_to(watch, file);
}

std::filesystem::path failed_path_for(const Watch& watch, const std::filesystem::path& file) {
    return watch.failed_dir / relative_to(watch, file);
}

}  // namespace rr::service
