#include "event_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <ctime>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace rr::farm {

int64_t now_us() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

EventLog::EventLog(const std::string& path)
    : fd_(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)) {
    if (fd_ < 0) throw std::runtime_error("cannot open event log " + path);
}

EventLog::~EventLog() {
    if (fd_ >= 0) ::close(fd_);
}

void EventLog::append(const Event& e) const {
    std::ostringstream s;
    s << static_cast<char>(e.kind) << ' ' << e.t_us << ' ' << e.task << ' ' << e.epoch << ' '
      << e.latency_us << ' ' << (e.job_ready ? 1 : 0) << ' ' << e.text << '\n';
    const std::string line = s.str();
    // One write per line: lines from the node's threads never interleave within a line.
    [[maybe_unused]] const auto n = ::write(fd_, line.data(), line.size());
}

std::vector<Event> read_events(const std::string& path) {
    std::ifstream in(path);
    std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<Event> out;
    size_t start = 0;
    while (true) {
        const size_t end = all.find('\n', start);
        if (end == std::string::npos) break;
        std::istringstream s(all.substr(start, end - start));
        start = end + 1;
        char kind = 0;
        int ready = 0;
        Event e;
        if (!(s >> kind >> e.t_us >> e.task >> e.epoch >> e.latency_us >> ready)) continue;
        e.kind = static_cast<Ev>(kind);
        e.job_ready = ready != 0;
        std::getline(s >> std::ws, e.text);
        out.push_back(std::move(e));
    }
    return out;
}

}  // namespace rr::farm
