#include "worker/supervisor.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <thread>

#include "worker/protocol.h"
#include "worker/spawn.h"
#include "worker/zygote.h"

namespace rr::worker {
namespace {

using Clock = std::chrono::steady_clock;

constexpr auto kCancelGrace = std::chrono::seconds(5);

struct Fd {
    int fd = -1;
    Fd() = default;
    explicit Fd(int f) : fd(f) {}
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() { reset(); }
    void reset() {
        if (fd >= 0) ::close(fd);
        fd = -1;
    }
};

std::string signal_name(int sig) {
    const char* abbrev = sigabbrev_np(sig);
    return abbrev ? std::string("SIG") + abbrev : "signal " + std::to_string(sig);
}

std::string seconds_text(double s) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", s);
    return buf;
}

// The worker process; SIGKILLed and reaped if still there when this goes away.
class Child {
  public:
    explicit Child(pid_t pid) : pid_(pid) {}
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;
    ~Child() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            wait(true);
        }
    }
    void kill() const {
        if (pid_ > 0) ::kill(pid_, SIGKILL);
    }
    // The wait status once the process ended; nullopt while it runs (when not blocking).
    std::optional<int> wait(bool block) {
        if (status_) return status_;
        int st = 0;
        pid_t r;
        do {
            r = ::waitpid(pid_, &st, block ? 0 : WNOHANG);
        } while (r < 0 && errno == EINTR);
        if (r == pid_) {
            status_ = st;
            pid_ = -1;
        }
        return status_;
    }

  private:
    pid_t pid_;
    std::optional<int> status_;
};

Result<pid_t> spawn(const Launch& launch, int child_fd) {
    if (launch.zygote) return launch.zygote->spawn_worker(child_fd);
    return spawn_with_fd(launch.exe, {"worker", "--fd", std::to_string(kWorkerFd)}, child_fd);
}

}  // namespace

Result<nlohmann::json> run_in_worker(const nlohmann::json& request, const Launch& launch,
                                     const OnMessage& on_message, std::stop_token stop) {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        return make_error(Errc::internal, std::string("socketpair: ") + std::strerror(errno));
    Fd ours(sv[0]), theirs(sv[1]);
    if (theirs.fd == kWorkerFd) {
        // dup2 onto itself would keep close-on-exec set: move it out of the way first.
        Fd moved(::fcntl(theirs.fd, F_DUPFD_CLOEXEC, kWorkerFd + 1));
        std::swap(theirs.fd, moved.fd);
    }
    RR_ASSIGN(pid_t pid, spawn(launch, theirs.fd));
    Child child(pid);
    theirs.reset();

    const auto started = Clock::now();
    std::optional<Error> killed_for;  // why we killed it, if we did
    auto broken = [&](const std::string& why) -> Error {
        return make_error(Errc::internal, "worker broke the protocol: " + why);
    };
    if (Status sent = send_message(ours.fd, request); !sent) {
        // It died before reading its request: report how it ended instead.
        child.kill();
        killed_for = broken(sent.error().message);
    }
    ::fcntl(ours.fd, F_SETFL, ::fcntl(ours.fd, F_GETFL) | O_NONBLOCK);

    MessageReader reader;
    std::optional<nlohmann::json> final;
    std::optional<Clock::time_point> cancel_deadline;
    bool open = !killed_for.has_value();
    while (open) {
        pollfd p{ours.fd, POLLIN, 0};
        const int ready = ::poll(&p, 1, 100);
        if (ready < 0 && errno != EINTR) {
            child.kill();
            killed_for = make_error(Errc::internal, std::string("poll: ") + std::strerror(errno));
            break;
        }
        if (ready > 0) {
            auto more = reader.feed(ours.fd);
            if (!more) {
                child.kill();
                killed_for = broken(more.error().message);
                break;
            }
            open = *more;
            while (true) {
                auto msg = reader.next();
                if (!msg) {
                    child.kill();
                    killed_for = broken(msg.error().message);
                    open = false;
                    break;
                }
                if (!*msg) break;
                if ((*msg)->contains("ok")) {
                    final = std::move(**msg);
                } else if (on_message) {
                    on_message(**msg);
                }
            }
        }
        if (!open || final) break;
        const auto now = Clock::now();
        if (launch.timeout_seconds > 0 &&
            now - started > std::chrono::duration<double>(launch.timeout_seconds)) {
            child.kill();
            killed_for = make_error(
                Errc::limit, "worker exceeded " + seconds_text(launch.timeout_seconds) + " s");
            break;
        }
        if (stop.stop_requested() && !cancel_deadline) {
            (void)send_message(ours.fd, {{"cancel", true}});
            cancel_deadline = now + kCancelGrace;
        }
        if (cancel_deadline && now > *cancel_deadline) {
            child.kill();
            killed_for = make_error(Errc::cancelled, "cancelled");
            break;
        }
    }
    ours.reset();
    // After its answer (or end of stream) a worker exits at once; give it a moment, then kill.
    std::optional<int> status;
    for (int i = 0; i < 50 && !(status = child.wait(false)); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (!status) {
        child.kill();
        status = child.wait(true);
    }

    if (killed_for) return *killed_for;
    if (final) {
        // A compromised worker may say anything: nothing it sends may throw in this process.
        const auto& ok = (*final)["ok"];
        const auto& result = final->contains("result") ? (*final)["result"] : nlohmann::json();
        const auto& error = final->contains("error") ? (*final)["error"] : nlohmann::json();
        if (ok.is_boolean() && ok.get<bool>() && result.is_object()) return result;
        if (ok.is_boolean() && !ok.get<bool>() && error.is_object()) return error_from_json(error);
        return broken("a malformed answer");
    }
    if (WIFSIGNALED(*status)) {
        return make_error(Errc::media, "worker killed by " + signal_name(WTERMSIG(*status)));
    }
    if (WIFEXITED(*status) && WEXITSTATUS(*status) == kExitOutOfMemory) {
        return make_error(Errc::limit,
                          "worker exceeded " + std::to_string(launch.memory_mb) + " MB");
    }
    return broken("it ended without an answer (exit status " +
                  std::to_string(WIFEXITED(*status) ? WEXITSTATUS(*status) : -1) + ")");
}

}  // namespace rr::worker
