#pragma once
// renderrushctl's commands: each sends requests over the control socket and prints the
// answer for people (aligned tables) or, with --json, the raw `data` for scripts.

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace rr::app {

inline constexpr int kCtlOk = 0, kCtlFailed = 1, kCtlUsage = 2, kCtlUnreachable = 3;

struct CtlOptions {
    std::filesystem::path socket;
    bool json = false;
};

// Every job state's name, in the job store's order (for `jobs --state` and `status`).
[[nodiscard]] std::vector<std::string> job_state_names();

// The socket to use: --socket, else $RENDERRUSH_SOCKET, else /run/renderrush/control.sock.
[[nodiscard]] std::filesystem::path resolve_socket(const std::string& flag);

// A one-shot command (status, jobs, job, cancel, retry, pause, resume, reload, metrics, health).
[[nodiscard]] int ctl_request(const CtlOptions& opts, const std::string& cmd,
                              const nlohmann::json& args);
// submit FILE --profile P [--wait]
[[nodiscard]] int ctl_submit(const CtlOptions& opts, const std::string& file,
                             const std::string& profile, bool wait);
// Live progress of running jobs until interrupted.
[[nodiscard]] int ctl_watch(const CtlOptions& opts);

}  // namespace rr::app
