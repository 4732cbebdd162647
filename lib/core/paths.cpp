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

}  // namespace rr
