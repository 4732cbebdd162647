#pragma once
// The zygote's side of worker::Zygote (zygote.h): `renderrushd worker --zygote --fd 3` waits
// for spawn requests and forks one worker per request. Forking this small, single-threaded
// process that has already loaded every library costs a few milliseconds; exec'ing
// renderrushd again costs ~0.3 s of CPU in the dynamic loader alone (docs/BENCHMARKS.md).
//
// The zygote never reads input and never confines itself: each worker it forks runs the
// ordinary worker main, which confines itself before it reads its request.

#include <span>

#include "core/result.h"

namespace rr::worker {

// Serves spawn requests on `control_fd` until the daemon hangs up. Returns false in the
// zygote when it should exit; returns true in a newly forked worker, whose fd 3 is then the
// socket the daemon sent and which should go on exactly as `renderrushd worker --fd 3`.
// `argv` is rewritten in each worker so that it reads `... worker --fd 3`, as ps shows it.
[[nodiscard]] Result<bool> serve_forks(int control_fd, std::span<char*> argv);

}  // namespace rr::worker
