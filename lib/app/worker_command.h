#pragma once
// `renderrushd worker --fd N`: one task in a confined child process, talking to its parent
// over the socket it inherited as fd N (lib/worker/protocol.h). Started only by renderrushd
// itself, never by hand.

#include <span>

namespace rr::app {

// `fault_hooks`: honour RENDERRUSH_FAULT (only the test build passes true).
[[nodiscard]] int run_worker_command(int fd, bool fault_hooks);

// `renderrushd worker --zygote --fd N`: the fork server the daemon starts once
// (worker/fork_server.h). Each worker it forks returns from here as `run_worker_command`
// does; the zygote itself returns when the daemon hangs up.
[[nodiscard]] int run_zygote_command(int fd, bool fault_hooks, std::span<char*> argv);

}  // namespace rr::app
