#include "worker/fault_hook.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

namespace rr::worker {
namespace {

std::vector<std::string> split(const std::string& s, char sep, size_t max_parts) {
    std::vector<std::string> parts;
    size_t start = 0;
    while (parts.size() + 1 < max_parts) {
        const size_t at = s.find(sep, start);
        if (at == std::string::npos) break;
        parts.push_back(s.substr(start, at - start));
        start = at + 1;
    }
    parts.push_back(s.substr(start));
    return parts;
}

}  // namespace

Status inject_fault(const std::string& spec, const std::string& task,
                    const std::filesystem::path& input, const std::filesystem::path& work_dir) {
    if (spec.empty()) return {};
    const auto parts = split(spec, ':', 4);
    const std::string action = parts[0];
    const std::string want = parts.size() > 1 && !parts[1].empty() ? parts[1] : "chunk";
    const std::string match = parts.size() > 2 ? parts[2] : "";
    const bool once = parts.size() > 3 && parts[3] == "once";
    if (want != "any" && want != task) return {};
    if (!match.empty() && input.string().find(match) == std::string::npos) return {};
    if (once) {
        // O_EXCL: of the job's workers for this task, only the first to get here misbehaves.
        const auto marker = work_dir / ("fault-fired-" + task);
        const int fd = ::open(marker.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0) return {};
        ::close(fd);
    }

    if (action == "crash") {
        ::raise(SIGSEGV);
    } else if (action == "hang") {
        while (true) std::this_thread::sleep_for(std::chrono::hours(1));
    } else if (action == "memory") {
        std::vector<std::unique_ptr<char[]>> hoard;
        while (true) {
            hoard.emplace_back(new char[size_t{64} << 20]);
            std::memset(hoard.back().get(), 1, size_t{64} << 20);
        }
    } else if (action == "socket") {
        const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            return make_error(Errc::internal, std::string("fault hook: socket(AF_INET) refused: ") +
                                                  std::strerror(errno));
        ::close(fd);
        return make_error(Errc::internal, "fault hook: socket(AF_INET) was allowed");
    } else if (action.rfind("open=", 0) == 0) {
        const std::string path = action.substr(5);
        const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return make_error(Errc::internal,
                              "fault hook: open " + path + " refused: " + std::strerror(errno));
        ::close(fd);
        return make_error(Errc::internal, "fault hook: open " + path + " was allowed");
    }
    return {};
}

}  // namespace rr::worker
