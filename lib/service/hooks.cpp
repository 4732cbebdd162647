#include "service/hooks.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "watch/fd.h"

extern char** environ;

namespace rr::service {
namespace {

constexpr size_t kCaptureLimit = 64 * 1024;

const char* kind_name(HookKind kind) {
    switch (kind) {
        case HookKind::before:
            return "before";
        case HookKind::after_success:
            return "after_success";
        case HookKind::after_failure:
            return "after_failure";
    }
    return "hook";
}

using watch::Fd;

struct Pipe {
    Fd read, write;
};

Result<Pipe> make_pipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0)
        return make_error(Errc::io, std::string("pipe: ") + std::strerror(errno));
    Pipe p;
    p.read = Fd(fds[0]);
    p.write = Fd(fds[1]);
    return p;
}

// posix_spawn's attributes and file actions, destroyed with the scope.
struct SpawnSetup {
    posix_spawnattr_t attr;
    posix_spawn_file_actions_t actions;
    SpawnSetup() {
        posix_spawnattr_init(&attr);
        posix_spawn_file_actions_init(&actions);
    }
    ~SpawnSetup() {
        posix_spawn_file_actions_destroy(&actions);
        posix_spawnattr_destroy(&attr);
    }
    SpawnSetup(const SpawnSetup&) = delete;
    SpawnSetup& operator=(const SpawnSetup&) = delete;
};

}  // namespace

std::string HookRun::first_line() const {
    for (const std::string* text : {&err, &out}) {
        size_t start = 0;
        while (start < text->size()) {
            size_t end = text->find('\n', start);
            if (end == std::string::npos) end = text->size();
            std::string line = text->substr(start, end - start);
            if (!line.empty() && line.back() == '\r') line.pop_back();
            if (line.find_first_not_of(" \t") != std::string::npos) return line;
            start = end + 1;
        }
    }
    return {};
}

std::string HookRun::summary() const {
    std::string s = kind + " " + (argv.empty() ? std::string("?") : argv.front()) + ": ";
    s += timed_out ? "timed out" : exit_code < 0 ? "killed" : "exit " + std::to_string(exit_code);
    std::string output = out;
    if (!err.empty()) output += (output.empty() || output.back() == '\n' ? "" : "\n") + err;
    while (!output.empty() && (output.back() == '\n' || output.back() == ' ')) output.pop_back();
    if (!output.empty()) s += ": " + output;
    return s;
}

std::vector<HookCommand> hooks_for(const Watch* watch, const Profile* profile, HookKind kind) {
    std::vector<HookCommand> out;
    for (const Hooks* h : {watch ? &watch->hooks : nullptr, profile ? &profile->hooks : nullptr}) {
        if (!h) continue;
        const auto& argv = kind == HookKind::before          ? h->before
                           : kind == HookKind::after_success ? h->after_success
                                                             : h->after_failure;
        if (argv.empty()) continue;
        out.push_back({kind, argv,
                       std::chrono::milliseconds(static_cast<int64_t>(h->timeout_seconds * 1000))});
    }
    return out;
}

std::vector<std::string> expand_hook(const std::vector<std::string>& argv,
                                     const std::map<std::string, std::string>& values) {
    std::vector<std::string> out;
    for (const auto& arg : argv) {
        std::string s;
        size_t i = 0;
        while (i < arg.size()) {
            if (arg[i] == '{') {
                const size_t close = arg.find('}', i);
                if (close != std::string::npos) {
                    auto it = values.find(arg.substr(i + 1, close - i - 1));
                    if (it != values.end()) {
                        s += it->second;
                        i = close + 1;
                        continue;
                    }
                }
            }
            s += arg[i++];
        }
        out.push_back(std::move(s));
    }
    return out;
}

Result<HookRun> run_hook(const HookCommand& hook, std::stop_token stop) {
    HookRun run;
    run.kind = kind_name(hook.kind);
    run.argv = hook.argv;
    if (hook.argv.empty()) return make_error(Errc::config, "an empty hook command");
    RR_ASSIGN(Pipe out, make_pipe());
    RR_ASSIGN(Pipe err, make_pipe());

    SpawnSetup setup;
    posix_spawn_file_actions_addopen(&setup.actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&setup.actions, out.write.get(), 1);
    posix_spawn_file_actions_adddup2(&setup.actions, err.write.get(), 2);
    // Its own process group, so a timeout kills whatever it started too; default signal
    // handling and an empty mask, whatever the daemon's threads block.
    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGCHLD, SIGUSR1, SIGUSR2})
        sigaddset(&defaults, sig);
    posix_spawnattr_setpgroup(&setup.attr, 0);
    posix_spawnattr_setsigmask(&setup.attr, &none);
    posix_spawnattr_setsigdefault(&setup.attr, &defaults);
    posix_spawnattr_setflags(
        &setup.attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    std::vector<char*> argv;
    for (const auto& a : hook.argv) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    pid_t pid = -1;
    const int rc = posix_spawnp(&pid, argv[0], &setup.actions, &setup.attr, argv.data(), environ);
    if (rc != 0)
        return make_error(Errc::io, "cannot run " + hook.argv.front() + ": " + std::strerror(rc));
    out.write.reset();
    err.write.reset();

    const auto deadline = std::chrono::steady_clock::now() + hook.timeout;
    bool killed = false;
    auto kill_group = [&] {
        if (!killed) ::kill(-pid, SIGKILL);
        killed = true;
    };
    // Read both pipes until they close (the hook and everything it started are done with
    // them), checking the deadline and stop requests in between.
    while (out.read.valid() || err.read.valid()) {
        if (std::chrono::steady_clock::now() >= deadline) {
            run.timed_out = true;
            kill_group();
            break;
        }
        if (stop.stop_requested()) {
            kill_group();
            break;
        }
        pollfd fds[2] = {{out.read.get(), POLLIN, 0}, {err.read.get(), POLLIN, 0}};
        if (::poll(fds, 2, 100) < 0 && errno != EINTR) break;
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            char buf[4096];
            const ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
            Fd& fd = i == 0 ? out.read : err.read;
            std::string& text = i == 0 ? run.out : run.err;
            if (n > 0) {
                const size_t room = kCaptureLimit - std::min(kCaptureLimit, text.size());
                text.append(buf, std::min(static_cast<size_t>(n), room));
            } else if (n == 0 || errno != EINTR) {
                fd.reset();
            }
        }
    }
    // The pipes closed; the hook itself may still be exiting (or have left a daemon behind).
    int status = 0;
    while (true) {
        const pid_t w = ::waitpid(pid, &status, killed ? 0 : WNOHANG);
        if (w == pid) break;
        if (w < 0 && errno != EINTR) return run;
        if (w == 0) {
            if (std::chrono::steady_clock::now() >= deadline) {
                run.timed_out = true;
                kill_group();
            } else if (stop.stop_requested()) {
                kill_group();
            } else {
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
            }
        }
    }
    run.exit_code = !killed && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return run;
}

std::vector<HookRun> run_hooks(const std::vector<HookCommand>& hooks,
                               const std::map<std::string, std::string>& values,
                               std::stop_token stop, bool until_failure) {
    std::vector<HookRun> runs;
    for (const auto& hook : hooks) {
        HookCommand filled = hook;
        filled.argv = expand_hook(hook.argv, values);
        auto r = run_hook(filled, stop);
        if (!r) {
            HookRun failed;
            failed.kind = kind_name(hook.kind);
            failed.argv = filled.argv;
            failed.err = r.error().message;
            runs.push_back(std::move(failed));
        } else {
            runs.push_back(std::move(r).value());
        }
        if (until_failure && !runs.back().ok()) break;
    }
    return runs;
}

}  // namespace rr::service
