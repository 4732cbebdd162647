#pragma once
// Runs one task in a new worker process (`<exe> worker --fd 3`, or the same forked by the
// zygote, zygote.h) and waits for its answer on the calling thread. The worker is killed when
// it runs past the time limit, when it keeps running after a stop request, and whenever its
// parent thread dies (PR_SET_PDEATHSIG; a forked worker's is the one that started the zygote).
// Whatever happens to the worker (a signal, the memory limit, a broken conversation) comes
// back as an error naming it; the caller's process is never at risk.

#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <stop_token>

#include "core/result.h"

namespace rr::worker {

class Zygote;

struct Launch {
    Zygote* zygote = nullptr;  // forks the worker; nullptr: posix_spawn `exe`
    std::filesystem::path exe = "/proc/self/exe";
    double timeout_seconds = 0;  // 0: no limit
    int64_t memory_mb = 0;       // the worker's limit, for the message when it is exceeded
};

// Exit status a worker uses when an allocation failed: it ran into its memory limit.
inline constexpr int kExitOutOfMemory = 86;

using OnMessage = std::function<void(const nlohmann::json&)>;

// Sends `request`, hands every intermediate message to `on_message` and returns the final
// result. On `stop` the worker is asked to cancel and killed if it does not within 5 s.
[[nodiscard]] Result<nlohmann::json> run_in_worker(const nlohmann::json& request,
                                                   const Launch& launch,
                                                   const OnMessage& on_message,
                                                   std::stop_token stop);

}  // namespace rr::worker
