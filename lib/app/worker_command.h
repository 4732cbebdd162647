#pragma once
// `renderrushd worker --fd N`: one task in a confined child process, talking to its parent
// over the socket it inherited as fd N (lib/worker/protocol.h). Started only by renderrushd
// itself, never by hand.

namespace rr::app {

// `fault_hooks`: honour RENDERRUSH_FAULT (only the test build passes true).
[[nodiscard]] int run_worker_command(int fd, bool fault_hooks);

}  // namespace rr::app
