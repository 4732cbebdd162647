#include "worker/zygote.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "worker/spawn.h"

namespace rr::worker {
namespace {

// A zygote starts in well under a second; a loaded machine may take longer.
constexpr int kReadyTimeoutMs = 30'000;
// Forking the zygote takes milliseconds: a zygote that does not answer is stuck.
constexpr int kReplyTimeoutMs = 10'000;

Error failure(const std::string& what) {
    return make_error(Errc::internal, "worker zygote: " + what);
}

// Reads exactly `size` bytes within `timeout_ms` in all.
Status read_exactly(int fd, void* data, size_t size, int timeout_ms) {
    char* p = static_cast<char*>(data);
    while (size > 0) {
        pollfd pfd{fd, POLLIN, 0};
        const int ready = ::poll(&pfd, 1, timeout_ms);
        if (ready < 0 && errno == EINTR) continue;
        if (ready < 0) return failure(std::string("poll: ") + std::strerror(errno));
        if (ready == 0) return failure("no answer");
        const ssize_t n = ::recv(fd, p, size, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return failure(std::string("recv: ") + std::strerror(errno));
        if (n == 0) return failure("it exited");
        p += n;
        size -= static_cast<size_t>(n);
    }
    return {};
}

Status send_fd(int socket, int fd) {
    char byte = 'S';
    iovec iov{&byte, 1};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
    ssize_t n;
    do {
        n = ::sendmsg(socket, &msg, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    if (n != 1) return failure(std::string("sendmsg: ") + std::strerror(errno));
    return {};
}

}  // namespace

Result<std::unique_ptr<Zygote>> Zygote::start(std::filesystem::path exe, LoggerPtr logger) {
    std::unique_ptr<Zygote> z(new Zygote(std::move(exe), std::move(logger)));
    std::lock_guard lock(z->mutex_);
    RR_TRY(z->launch());
    return z;
}

Zygote::~Zygote() {
    std::lock_guard lock(mutex_);
    stop();
}

pid_t Zygote::pid() const {
    std::lock_guard lock(mutex_);
    return pid_;
}

Status Zygote::launch() {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        return failure(std::string("socketpair: ") + std::strerror(errno));
    control_ = sv[0];
    int theirs = sv[1];
    if (theirs == kWorkerFd) {
        // dup2 onto itself would keep close-on-exec set: move it out of the way first.
        theirs = ::fcntl(sv[1], F_DUPFD_CLOEXEC, kWorkerFd + 1);
        ::close(sv[1]);
    }
    auto pid =
        spawn_with_fd(exe_, {"worker", "--zygote", "--fd", std::to_string(kWorkerFd)}, theirs);
    ::close(theirs);
    if (!pid) {
        stop();
        return pid.error();
    }
    pid_ = *pid;
    char ready = 0;
    if (Status st = read_exactly(control_, &ready, 1, kReadyTimeoutMs); !st) {
        stop();
        return st;
    }
    if (ready != kZygoteReady) {
        stop();
        return failure("it did not say it was ready");
    }
    return {};
}

void Zygote::stop() {
    if (control_ >= 0) ::close(control_);
    control_ = -1;
    if (pid_ > 0) {
        ::kill(pid_, SIGKILL);
        int st = 0;
        while (::waitpid(pid_, &st, 0) < 0 && errno == EINTR) {
        }
    }
    pid_ = -1;
}

Result<pid_t> Zygote::spawn_worker(int fd) {
    {
        std::lock_guard lock(mutex_);
        for (int round = 0; round < 2; ++round) {
            if (control_ < 0) {
                if (restarted_) break;
                restarted_ = true;
                if (Status st = launch(); !st) {
                    logger_->warn("{}", st.error().message);
                    break;
                }
                logger_->warn("worker zygote restarted (pid {})", pid_);
            }
            if (Status sent = send_fd(control_, fd); !sent) {
                // It died before it had the request: the socket is unused, a new one gets it.
                logger_->warn("{}", sent.error().message);
                stop();
                continue;
            }
            int32_t reply = 0;
            if (Status got = read_exactly(control_, &reply, sizeof reply, kReplyTimeoutMs); !got) {
                // It may have forked a worker for this socket already: this attempt fails
                // rather than hand the socket to a second one.
                stop();
                return got.error();
            }
            if (reply <= 0) return failure(std::string("fork: ") + std::strerror(-reply));
            return static_cast<pid_t>(reply);
        }
        if (!warned_) {
            warned_ = true;
            logger_->warn(
                "worker zygote unavailable: workers are started with posix_spawn from now on "
                "(about 0.3 s of CPU more each)");
        }
    }
    return spawn_with_fd(exe_, {"worker", "--fd", std::to_string(kWorkerFd)}, fd);
}

}  // namespace rr::worker
