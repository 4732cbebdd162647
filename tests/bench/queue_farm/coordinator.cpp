#include "coordinator.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <thread>

#include "event_log.h"

extern char** environ;

namespace rr::farm {
namespace {

// One pipe end, closed on destruction; kept off fds 3 and 4, which the nodes get them as.
class Fd {
  public:
    Fd() = default;
    explicit Fd(int fd) : fd_(fd < 0 ? -1 : ::fcntl(fd, F_DUPFD_CLOEXEC, 10)) {
        if (fd >= 0) ::close(fd);
    }
    ~Fd() { reset(); }
    Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    Fd& operator=(Fd&& o) noexcept {
        reset();
        fd_ = std::exchange(o.fd_, -1);
        return *this;
    }
    void reset() {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }
    [[nodiscard]] int get() const { return fd_; }

  private:
    int fd_ = -1;
};

Result<std::pair<Fd, Fd>> make_pipe() {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) return make_error(Errc::io, "pipe failed");
    return std::make_pair(Fd(p[0]), Fd(p[1]));
}

std::string num(double v) {
    return std::to_string(v);
}

std::vector<std::string> node_argv(const FarmOptions& f, const NodeOptions& n) {
    std::vector<std::string> a = {f.self,        "node",
                                  "--conninfo",  n.conninfo,
                                  "--node-id",   n.node_id,
                                  "--log",       n.log_path,
                                  "--workers",   std::to_string(n.workers),
                                  "--task-ms",   std::to_string(n.task_ms),
                                  "--poll-ms",   std::to_string(n.poll_ms),
                                  "--lease",     num(n.lease_seconds),
                                  "--heartbeat", num(n.heartbeat_seconds),
                                  "--ready-fd",  "3",
                                  "--go-fd",     "4"};
    if (!n.connection_per_thread) a.push_back("--shared-connection");
    return a;
}

Result<pid_t> spawn(const std::vector<std::string>& args, int ready_w, int go_r) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, ready_w, 3);
    posix_spawn_file_actions_adddup2(&fa, go_r, 4);
    std::vector<char*> argv;
    for (const auto& s : args) argv.push_back(const_cast<char*>(s.c_str()));
    argv.push_back(nullptr);
    pid_t pid = 0;
    const int rc = ::posix_spawn(&pid, args[0].c_str(), &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) return make_error(Errc::io, "cannot start " + args[0]);
    return pid;
}

// Victims spread over the farm, preferring nodes that hold leases right now (so that there
// is something to take over).
std::vector<size_t> victims(const FarmOptions& o, const std::vector<store::NodeView>& view,
                            const std::vector<std::string>& ids) {
    std::vector<size_t> holding, idle;
    for (size_t i = 0; i < ids.size(); ++i) {
        auto it = std::find_if(view.begin(), view.end(),
                               [&](const store::NodeView& v) { return v.node_id == ids[i]; });
        (it != view.end() && it->leases > 0 ? holding : idle).push_back(i);
    }
    std::vector<size_t> out;
    const auto want = static_cast<size_t>(o.kill + o.freeze);
    const size_t step = std::max<size_t>(1, holding.size() / want);
    for (size_t i = 0; i < holding.size() && out.size() < want; i += step)
        out.push_back(holding[i]);
    for (size_t i = 0; i < idle.size() && out.size() < want; ++i) out.push_back(idle[i]);
    return out;
}

double children_cpu_seconds() {
    rusage ru{};
    ::getrusage(RUSAGE_CHILDREN, &ru);
    return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

}  // namespace

Result<FarmRun> run_farm(const FarmOptions& o, store::PgQueue& queue, const std::string& dir,
                         const std::string& socket_dir) {
    FarmRun run;
    const int per_job = o.tasks / o.jobs;
    for (int j = 0; j < o.jobs; ++j) {
        const int n = j < o.jobs - 1 ? per_job : o.tasks - per_job * (o.jobs - 1);
        std::vector<std::string> payloads;
        for (int i = 0; i < n; ++i) payloads.push_back("chunk " + std::to_string(i));
        RR_ASSIGN(const int64_t id,
                  queue.add_job("/farm/input-" + std::to_string(j) + ".mkv", "farm", payloads, 0));
        run.job_ids.push_back(id);
    }

    // The server's initdb and pg_ctl were children too: count from here.
    const double children0 = children_cpu_seconds();
    RR_ASSIGN(auto ready, make_pipe());
    RR_ASSIGN(auto go, make_pipe());
    std::vector<pid_t> pids;
    for (int i = 0; i < o.nodes; ++i) {
        NodeOptions n = o.node;
        char id[32];
        std::snprintf(id, sizeof id, "node-%02d", i);
        n.node_id = id;
        n.log_path = dir + "/" + n.node_id + ".log";
        n.conninfo = o.conninfo;
        run.node_ids.push_back(n.node_id);
        run.log_paths.push_back(n.log_path);
        RR_ASSIGN(const pid_t pid, spawn(node_argv(o, n), ready.second.get(), go.first.get()));
        pids.push_back(pid);
    }
    ready.second.reset();
    go.first.reset();
    // Every node registered and connected before the clock starts.
    int registered = 0;
    char c = 0;
    while (registered < o.nodes && ::read(ready.first.get(), &c, 1) == 1) ++registered;
    if (registered < o.nodes) {
        for (pid_t p : pids) ::kill(p, SIGKILL);
        for (pid_t p : pids) ::waitpid(p, nullptr, 0);
        return make_error(Errc::io, std::to_string(o.nodes - registered) +
                                        " node(s) exited before registering (see stderr)");
    }

    const MachineCpu cpu0 = machine_cpu();
    const double pg0 = postgres_cpu_seconds(socket_dir);
    run.t_go = now_us();
    go.second.reset();  // end-of-file: every node starts its workers now
    const auto deadline = run.t_go + static_cast<int64_t>(o.timeout_seconds * 1e6);
    bool finished = false;
    while (now_us() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        RR_ASSIGN(const auto depth, queue.queue_depth());
        const bool thawed = run.frozen.empty() || run.t_thaw != 0;
        if (depth.available == 0 && depth.leased == 0 && thawed) {
            finished = true;
            break;
        }
        const int64_t done = o.tasks - depth.available - depth.leased;
        if (o.kill + o.freeze > 0 && run.t_kill == 0 && done >= o.kill_at * o.tasks) {
            RR_ASSIGN(const auto view, queue.nodes());
            const auto chosen = victims(o, view, run.node_ids);
            for (size_t k = 0; k < chosen.size(); ++k) {
                const size_t i = chosen[k];
                const bool kill = static_cast<int>(k) < o.kill;
                ::kill(pids[i], kill ? SIGKILL : SIGSTOP);
                (kill ? run.killed : run.frozen).insert(run.node_ids[i]);
            }
            run.t_kill = now_us();
            run.done_at_kill = done;
        }
        if (!run.frozen.empty() && run.t_thaw == 0 &&
            now_us() >= run.t_kill + static_cast<int64_t>(o.freeze_seconds * 1e6)) {
            for (size_t i = 0; i < pids.size(); ++i)
                if (run.frozen.count(run.node_ids[i])) ::kill(pids[i], SIGCONT);
            run.t_thaw = now_us();
        }
    }
    run.t_end = now_us();
    const MachineCpu cpu1 = machine_cpu();
    run.cpu = MachineCpu{cpu1.busy_s - cpu0.busy_s, cpu1.total_s - cpu0.total_s};
    run.postgres_cpu_s = postgres_cpu_seconds(socket_dir) - pg0;
    double load[1] = {0};
    if (::getloadavg(load, 1) == 1) run.load_average = load[0];

    for (size_t i = 0; i < pids.size(); ++i) {
        if (run.killed.count(run.node_ids[i])) continue;
        ::kill(pids[i], SIGTERM);
        ::kill(pids[i], SIGCONT);  // a node still frozen (timeout) must run to see SIGTERM
    }
    for (size_t i = 0; i < pids.size(); ++i) {
        int status = 0;
        ::waitpid(pids[i], &status, 0);
        const bool killed = run.killed.count(run.node_ids[i]) > 0;
        if (!killed && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) ++run.node_failures;
    }
    run.nodes_cpu_s = children_cpu_seconds() - children0;
    run.drained = finished;
    return run;
}

}  // namespace rr::farm
