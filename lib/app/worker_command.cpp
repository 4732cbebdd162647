#include "app/worker_command.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <thread>

#include "core/logging.h"
#include "worker/fault_hook.h"
#include "worker/fork_server.h"
#include "worker/protocol.h"
#include "worker/sandbox.h"
#include "worker/spawn.h"
#include "worker/supervisor.h"
#include "worker/tasks.h"

namespace rr::app {
namespace {

using nlohmann::json;

void out_of_memory() {
    static constexpr char kMessage[] = "renderrushd worker: out of memory\n";
    (void)!::write(2, kMessage, sizeof kMessage - 1);
    ::_exit(worker::kExitOutOfMemory);
}

// Allocation failures inside FFmpeg and OpenCV come back as errors rather than through
// operator new; under the address-space limit they mean the same thing.
bool is_out_of_memory(const Error& e) {
    return e.message.find(std::strerror(ENOMEM)) != std::string::npos ||
           e.message.find("Failed to allocate") != std::string::npos ||
           e.message.find("Insufficient memory") != std::string::npos;
}

worker::Allowance allowance(const json& a) {
    worker::Allowance allow;
    for (const auto& p : a.value("read", json::array()))
        allow.read.emplace_back(p.get<std::string>());
    for (const auto& p : a.value("write", json::array()))
        allow.write.emplace_back(p.get<std::string>());
    allow.address_space = a.value("address_space", uint64_t{0});
    return allow;
}

// Writes from the task thread and the progress reporter never interleave.
class Channel {
  public:
    explicit Channel(int fd) : fd_(fd) {}
    void send(const json& m) {
        std::lock_guard lock(mutex_);
        (void)worker::send_message(fd_, m);
    }

  private:
    int fd_;
    std::mutex mutex_;
};

Result<json> run(const json& req, Channel& channel, const LoggerPtr& logger, bool fault_hooks,
                 std::stop_token stop) {
    const std::string task = req.value("task", std::string());
    RR_ASSIGN(auto confined, worker::confine(allowance(req.value("allow", json::object()))));
    if (confined.landlock_abi == 0) {
        // Once per job is enough to tell the operator.
        if (task == "prepare") logger->warn("worker: {}", confined.note);
    }
    if (fault_hooks) {
        const char* spec = std::getenv(worker::kFaultVariable);
        const std::string work_dir =
            req.value("settings", json::object()).value("work_dir", std::string());
        RR_TRY(worker::inject_fault(spec ? spec : "", task, req.value("input", std::string()),
                                    work_dir));
    }
    auto report = [&channel](int64_t frames) { channel.send({{"progress", frames}}); };
    return worker::run_task(req, logger, report, stop);
}

}  // namespace

int run_worker_command(int fd, bool fault_hooks) {
    // Never outlive the thread that supervises us, even when the daemon is SIGKILLed.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    std::set_new_handler(out_of_memory);
    auto request = worker::read_message(fd);
    if (!request || !*request) return 1;
    const json& req = **request;
    auto logger = make_logger("renderrushd", req.value("log_level", std::string("info")),
                              std::getenv("JOURNAL_STREAM") != nullptr);
    install_ffmpeg_log_bridge(logger);

    Channel channel(fd);
    std::stop_source stop;
    // The parent asks us to cancel, or goes away: either way, stop at the next frame.
    std::jthread listener([fd, &stop] {
        while (true) {
            auto m = worker::read_message(fd);
            if (!m || !*m || (*m)->value("cancel", false)) break;
        }
        stop.request_stop();
    });

    Result<json> result = run(req, channel, logger, fault_hooks, stop.get_token());
    if (!result && is_out_of_memory(result.error())) {
        const int64_t mb = req.value("settings", json::object())
                               .value("limits", json::object())
                               .value("worker_memory_mb", int64_t{0});
        result = make_error(Errc::limit, "worker exceeded " + std::to_string(mb) + " MB (" +
                                             result.error().message + ")");
    }
    channel.send(result ? json{{"ok", true}, {"result", std::move(result).value()}}
                        : json{{"ok", false}, {"error", worker::error_to_json(result.error())}});
    ::shutdown(fd, SHUT_RDWR);  // ends the listener's read
    listener.join();
    return 0;
}

int run_zygote_command(int fd, bool fault_hooks, std::span<char*> argv) {
    auto forked = worker::serve_forks(fd, argv);
    if (!forked) {
        std::fprintf(stderr, "renderrushd worker --zygote: %s\n", forked.error().message.c_str());
        return 1;
    }
    if (!*forked) return 0;
    return run_worker_command(worker::kWorkerFd, fault_hooks);
}

}  // namespace rr::app
