#include "watch/scan.h"

namespace rr::watch {

std::vector<std::filesystem::path> scan_files(const std::filesystem::path& root, bool recursive) {
    std::vector<std::filesystem::path> files;
    std::error_code ec;
    if (!recursive) {
        for (auto it = std::filesystem::directory_iterator(root, ec);
             !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
            if (!it->is_directory(ec)) files.push_back(it->path());
        }
        return files;
    }
    auto it = std::filesystem::recursive_directory_iterator(root, ec);
    for (; !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
        const auto name = it->path().filename().string();
        if (it->is_directory(ec)) {
            if (!name.empty() && name.front() == '.') it.disable_recursion_pending();
            continue;
        }
        files.push_back(it->path());
    }
    return files;
}

}  // namespace rr::watch
