#include "watch/name_rules.h"

#include <algorithm>

#include "core/atomic_file.h"
#include "core/paths.h"

namespace rr::watch {

bool acceptable_name(const std::filesystem::path& path, const std::vector<std::string>& allowed) {
    const std::string name = path.filename().string();
    if (name.empty() || name.front() == '.' || name.back() == '~') return false;
    if (is_temp_name(path)) return false;
    std::string ext = path.extension().string();
    if (ext.size() < 2) return false;
    ext.erase(0, 1);
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    for (const char* partial : {"part", "tmp", "crdownload", "partial", "download"}) {
        if (ext == partial) return false;
    }
    return std::find(allowed.begin(), allowed.end(), ext) != allowed.end();
}

bool regular_file_inside(const std::filesystem::path& path, const std::filesystem::path& root) {
    std::error_code ec;
    auto status = std::filesystem::symlink_status(path, ec);
    if (ec) return false;
    if (std::filesystem::is_regular_file(status)) return true;
    if (!std::filesystem::is_symlink(status)) return false;
    const auto target = std::filesystem::canonical(path, ec);
    if (ec || !std::filesystem::is_regular_file(target, ec)) return false;
    const auto base = std::filesystem::canonical(root, ec);
    if (ec) return false;
    return path_within(target, base);
}

}  // namespace rr::watch
