#pragma once
// A fork server for worker processes. Exec'ing renderrushd costs ~0.3 s of CPU per worker,
// three quarters of it the dynamic loader resolving symbols of ~270 shared libraries, and a
// small file needs three workers. So the daemon (and `renderrushd process`) starts one
// `renderrushd worker --zygote --fd 3` before it touches any input and asks it to fork each
// worker (fork_server.h). The zygote forks with CLONE_PARENT, so every worker is still this
// process's child: the supervisor waits for it, kills it and reads its exit status as before.
//
// Thread-safe: requests from several scheduler threads are served one at a time. A zygote
// that died is started again once; after that, workers are posix_spawned (logged).

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <mutex>

#include "core/logging.h"
#include "core/result.h"

namespace rr::worker {

// The byte a zygote sends once it is ready for requests.
inline constexpr char kZygoteReady = 'Z';

class Zygote {
  public:
    // Starts the zygote from `exe` (normally /proc/self/exe) and waits until it is ready.
    [[nodiscard]] static Result<std::unique_ptr<Zygote>> start(std::filesystem::path exe,
                                                               LoggerPtr logger);
    Zygote(const Zygote&) = delete;
    Zygote& operator=(const Zygote&) = delete;
    ~Zygote();  // kills and reaps the zygote; workers it forked are not affected

    // Starts a worker whose fd 3 is `fd`; it is this process's child either way.
    [[nodiscard]] Result<pid_t> spawn_worker(int fd);

    // The zygote's pid, -1 when there is none (tests and diagnostics).
    [[nodiscard]] pid_t pid() const;

  private:
    Zygote(std::filesystem::path exe, LoggerPtr logger) : exe_(std::move(exe)), logger_(logger) {}
    [[nodiscard]] Status launch();  // with mutex_ held
    void stop();                    // with mutex_ held

    std::filesystem::path exe_;
    LoggerPtr logger_;
    mutable std::mutex mutex_;
    int control_ = -1;
    pid_t pid_ = -1;
    bool restarted_ = false;
    bool warned_ = false;
};

}  // namespace rr::worker
