#include "worker/fork_server.h"

#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

#include "worker/spawn.h"
#include "worker/zygote.h"

namespace rr::worker {
namespace {

Error sys_error(const char* what) {
    return make_error(Errc::internal, std::string("zygote: ") + what + ": " + std::strerror(errno));
}

// One spawn request: one byte and the new worker's end of its socket. -1 when the daemon
// hung up; -2 when the request carried no descriptor.
Result<int> receive_request(int fd) {
    char byte = 0;
    iovec iov{&byte, 1};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n;
    do {
        n = ::recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
    } while (n < 0 && errno == EINTR);
    if (n < 0) return sys_error("recvmsg");
    if (n == 0) return -1;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
            c->cmsg_len == CMSG_LEN(sizeof(int))) {
            int received = -1;
            std::memcpy(&received, CMSG_DATA(c), sizeof received);
            return received;
        }
    }
    return -2;
}

bool send_all(int fd, const void* data, size_t size) {
    const char* p = static_cast<const char*>(data);
    while (size > 0) {
        const ssize_t n = ::send(fd, p, size, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        p += n;
        size -= static_cast<size_t>(n);
    }
    return true;
}

// The arguments as ps and /proc/PID/cmdline show them: `<exe> worker --fd 3`. The new text
// is shorter than `<exe> worker --zygote --fd 3`, so it fits where the old one was.
void rename_to_worker(std::span<char*> argv) {
    if (argv.empty()) return;
    char* begin = argv.front();
    char* end = argv.back() + std::strlen(argv.back()) + 1;
    std::string text = std::string(argv.front()) + '\0' + "worker" + '\0' + "--fd" + '\0' +
                       std::to_string(kWorkerFd) + '\0';
    if (text.size() > static_cast<size_t>(end - begin)) return;
    std::memset(begin, 0, static_cast<size_t>(end - begin));
    std::memcpy(begin, text.data(), text.size());
}

// clone3's arguments as the kernel reads them (CLONE_ARGS_SIZE_VER0), spelled out here because
// <linux/sched.h> and glibc's <sched.h> do not mix.
struct CloneArgs {
    uint64_t flags = 0, pidfd = 0, child_tid = 0, parent_tid = 0, exit_signal = 0, stack = 0,
             stack_size = 0, tls = 0;
};
static_assert(sizeof(CloneArgs) == 64);

// A fork whose child is the daemon's (CLONE_PARENT). Raw clone leaves the C library's record
// of the main thread's TID at the zygote's; as glibc's own fork does, have the kernel write
// the child's TID there (and clear it at exit), so that pthread calls naming the main thread
// (affinity, scheduling) reach the worker and not the zygote. Where the kernel cannot say
// where that record is, or clone3 fails, the TID stays stale: nothing we run depends on it.
long clone_worker() {
    int* tid_address = nullptr;
    if (::prctl(PR_GET_TID_ADDRESS, &tid_address) == 0 && tid_address) {
        CloneArgs args;
        args.flags = CLONE_PARENT | CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID;
        args.child_tid = reinterpret_cast<uint64_t>(tid_address);
        // No exit_signal with CLONE_PARENT: the child inherits the zygote's, SIGCHLD.
        const long pid = ::syscall(SYS_clone3, &args, sizeof args);
        if (pid >= 0) return pid;
    }
    return ::syscall(SYS_clone, CLONE_PARENT | SIGCHLD, 0, 0, 0, 0);
}

}  // namespace

Result<bool> serve_forks(int control_fd, std::span<char*> argv) {
    // Die with the daemon; if it is already gone, the first send below fails.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    const pid_t daemon = ::getppid();
    if (!send_all(control_fd, &kZygoteReady, 1)) return false;
    while (true) {
        RR_ASSIGN(const int fd, receive_request(control_fd));
        if (fd == -1) return false;
        int32_t reply = -EINVAL;
        if (fd >= 0) {
            // CLONE_PARENT: the worker is the daemon's child, so the daemon waits for it and
            // sees how it ended (a signal, an exit status) exactly as with posix_spawn.
            const long pid = clone_worker();
            if (pid == 0) {
                ::close(control_fd);
                if (::dup2(fd, kWorkerFd) < 0) ::_exit(1);  // dup2 clears close-on-exec
                if (fd != kWorkerFd) ::close(fd);
                reset_signals_for_child();
                ::prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (::getppid() != daemon) ::_exit(1);  // the daemon died meanwhile
                rename_to_worker(argv);
                return true;
            }
            reply = pid > 0 ? static_cast<int32_t>(pid) : -errno;
            ::close(fd);
        }
        if (!send_all(control_fd, &reply, sizeof reply)) return false;
    }
}

}  // namespace rr::worker
