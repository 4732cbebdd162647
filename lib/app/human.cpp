#include "app/human.h"

#include <chrono>
#include <cmath>
#include <cstdio>

namespace rr::app {

std::string human_size(int64_t bytes) {
    static const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = static_cast<double>(bytes);
    int u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        ++u;
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, kUnits[u]);
    return buf;
}

std::string human_duration(double seconds) {
    if (!std::isfinite(seconds) || seconds < 0) return "-";
    auto s = static_cast<long>(std::lround(seconds));
    char buf[32];
    if (s >= 86400)
        std::snprintf(buf, sizeof buf, "%ldd%02ldh", s / 86400, (s / 3600) % 24);
    else if (s >= 3600)
        std::snprintf(buf, sizeof buf, "%ldh%02ldm", s / 3600, (s / 60) % 60);
    else if (s >= 60)
        std::snprintf(buf, sizeof buf, "%ldm%02lds", s / 60, s % 60);
    else if (seconds < 10)
        std::snprintf(buf, sizeof buf, "%.1fs", seconds);
    else
        std::snprintf(buf, sizeof buf, "%lds", s);
    return buf;
}

std::string human_age(double unix_seconds) {
    const double now =
        std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    return human_duration(std::max(0.0, now - unix_seconds)) + " ago";
}

std::string ellipsize_left(const std::string& s, size_t width) {
    if (s.size() <= width || width < 4) return s;
    return "..." + s.substr(s.size() - (width - 3));
}

std::string table(const std::vector<std::string>& header,
                  const std::vector<std::vector<std::string>>& rows) {
    std::vector<size_t> width(header.size());
    for (size_t i = 0; i < header.size(); ++i) width[i] = header[i].size();
    for (const auto& r : rows) {
        for (size_t i = 0; i < r.size() && i < width.size(); ++i)
            width[i] = std::max(width[i], r[i].size());
    }
    auto line = [&](const std::vector<std::string>& cells) {
        std::string out;
        for (size_t i = 0; i < cells.size(); ++i) {
            out += cells[i];
            if (i + 1 < cells.size()) out += std::string(width[i] - cells[i].size() + 2, ' ');
        }
        return out + "\n";
    };
    std::string out = line(header);
    for (const auto& r : rows) out += line(r);
    return out;
}

}  // namespace rr::app
