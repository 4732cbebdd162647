#include "app/progress_bar.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <string>

namespace rr::app {

std::string format_duration(double seconds) {
    if (seconds < 0 || !std::isfinite(seconds)) return "--:--";
    auto s = static_cast<long>(std::lround(seconds));
    char buf[32];
    if (s >= 3600)
        std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
    else
        std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
    return buf;
}

std::string render_progress_line(const pipeline::ProgressSnapshot& s, int width) {
    const double f = std::clamp(s.fraction(), 0.0, 1.0);
    const int filled = static_cast<int>(f * width);
    std::string bar(static_cast<size_t>(filled), '#');
    bar.append(static_cast<size_t>(width - filled), '.');
    char tail[160];
    std::snprintf(tail, sizeof tail, " %5.1f%%  %6.1f fps  ETA %s  chunks %d/%d", f * 100.0, s.fps,
                  format_duration(s.eta).c_str(), s.chunks_done, s.chunks_total);
    return "[" + bar + "]" + tail;
}

ProgressBar::ProgressBar(const pipeline::Progress& progress, FILE* out)
    : progress_(progress), out_(out) {
    if (!isatty(fileno(out_))) return;
    thread_ = std::jthread([this](std::stop_token stop) {
        while (!stop.stop_requested()) {
            std::fprintf(out_, "\r%s\x1b[K",
                         render_progress_line(progress_.snapshot(), 30).c_str());
            std::fflush(out_);
            for (int i = 0; i < 5 && !stop.stop_requested(); ++i) {
                std::this_thread::sleep_for(std::chrono::milliseconds(50));
            }
        }
        std::fprintf(out_, "\r%s\x1b[K\n", render_progress_line(progress_.snapshot(), 30).c_str());
        std::fflush(out_);
    });
}

ProgressBar::~ProgressBar() {
    if (thread_.joinable()) {
        thread_.request_stop();
        thread_.join();
    }
}

}  // namespace rr::app
