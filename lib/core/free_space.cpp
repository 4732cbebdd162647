#include "core/free_space.h"

#include <sys/statvfs.h>

namespace rr {

std::optional<int64_t> free_bytes(const std::filesystem::path& path) {
    struct statvfs st {};
    if (::statvfs(path.c_str(), &st) != 0) return std::nullopt;
    return static_cast<int64_t>(st.f_bavail * st.f_frsize);
}

}  // namespace rr
