#include "worker/spawn.h"

#include <signal.h>
#include <spawn.h>

#include <cstring>

extern char** environ;

namespace rr::worker {
namespace {

struct SpawnActions {
    posix_spawn_file_actions_t a;
    SpawnActions() { posix_spawn_file_actions_init(&a); }
    ~SpawnActions() { posix_spawn_file_actions_destroy(&a); }
};
struct SpawnAttr {
    posix_spawnattr_t a;
    SpawnAttr() { posix_spawnattr_init(&a); }
    ~SpawnAttr() { posix_spawnattr_destroy(&a); }
};

// The daemon handles or ignores these; a child starts with the defaults.
sigset_t defaulted_signals() {
    sigset_t s;
    sigemptyset(&s);
    for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGCHLD, SIGUSR1, SIGUSR2})
        sigaddset(&s, sig);
    return s;
}

}  // namespace

Result<pid_t> spawn_with_fd(const std::filesystem::path& exe, const std::vector<std::string>& args,
                            int fd) {
    SpawnActions actions;
    posix_spawn_file_actions_adddup2(&actions.a, fd, kWorkerFd);  // clears close-on-exec
    SpawnAttr attr;
    sigset_t none;
    sigemptyset(&none);
    const sigset_t defaults = defaulted_signals();
    posix_spawnattr_setsigmask(&attr.a, &none);
    posix_spawnattr_setsigdefault(&attr.a, &defaults);
    posix_spawnattr_setflags(&attr.a, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    const std::string path = exe.string();
    std::vector<const char*> argv{path.c_str()};
    for (const auto& a : args) argv.push_back(a.c_str());
    argv.push_back(nullptr);
    pid_t pid = -1;
    const int rc = posix_spawn(&pid, path.c_str(), &actions.a, &attr.a,
                               const_cast<char* const*>(argv.data()), environ);
    if (rc != 0)
        return make_error(Errc::internal,
                          "cannot start a worker (" + path + "): " + std::strerror(rc));
    return pid;
}

void reset_signals_for_child() {
    const sigset_t defaults = defaulted_signals();
    for (int sig = 1; sig < NSIG; ++sig)
        if (sigismember(&defaults, sig) == 1) ::signal(sig, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
}

}  // namespace rr::worker
