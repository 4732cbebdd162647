#pragma once
// Starting a renderrushd child with posix_spawn: `fd` becomes its fd 3 (the conversation with
// this process), the signal mask is cleared and the signals the daemon handles are back at
// their defaults. Used for the zygote and, where there is none, for each worker.

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

#include "core/result.h"

namespace rr::worker {

// The fd a worker (and the zygote) talks to its parent on.
inline constexpr int kWorkerFd = 3;

// Runs `exe args...` with `fd` as its fd 3 and every other descriptor closed on exec.
[[nodiscard]] Result<pid_t> spawn_with_fd(const std::filesystem::path& exe,
                                          const std::vector<std::string>& args, int fd);

// What posix_spawn does to a worker's signals, for a child made without exec (the zygote's).
void reset_signals_for_child();

}  // namespace rr::worker
