#pragma once
#include <filesystem>
#include <optional>
#include <string>

namespace rr::app {

// `renderrushd --check-config`: prints every problem with its line and column. Exit 0 or 2.
[[nodiscard]] int run_check_config(const std::optional<std::filesystem::path>& config);

// `renderrushd cluster init`: see app/cluster_command.h.
[[nodiscard]] int run_cluster_init_command(const std::optional<std::filesystem::path>& config);

// `renderrushd [--config FILE]`: the daemon, in the foreground. Exit 0 after a clean stop,
// 1 when it cannot start or fails, 2 for a bad configuration.
// `fault_hooks`: honour RENDERRUSH_DAEMON_FAULT (only the test build passes true).
[[nodiscard]] int run_daemon(const std::optional<std::filesystem::path>& config,
                             const std::string& log_level, bool fault_hooks);

}  // namespace rr::app
