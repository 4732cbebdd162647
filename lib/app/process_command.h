#pragma once
#include <filesystem>
#include <optional>
#include <stop_token>
#include <string>

namespace rr::app {

struct ProcessArgs {
    std::filesystem::path input;
    std::filesystem::path output;
    std::optional<std::filesystem::path> config;
    std::optional<std::string> profile;
    std::optional<std::string> stages;
    std::optional<int> workers;
    std::optional<double> chunk_seconds;
    bool json = false;
    std::string log_level;  // empty: from config
};

// `renderrushd process`: returns the process exit status (0 ok, 1 failed, 2 usage/config).
[[nodiscard]] int run_process_command(const ProcessArgs& args, std::stop_token stop);

}  // namespace rr::app
