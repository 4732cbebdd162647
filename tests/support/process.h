#pragma once
// Runs a program and captures its exit status and output (tests drive the real binaries).

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace rr::test {

struct CommandResult {
    int exit_code = -1;  // -1: killed by a signal or timed out
    bool timed_out = false;
    std::string out;
    std::string err;
};

[[nodiscard]] CommandResult run(const std::vector<std::string>& argv,
                                std::chrono::seconds timeout = std::chrono::seconds(300),
                                const std::map<std::string, std::string>& env = {});

// Paths baked in at build time.
[[nodiscard]] std::filesystem::path bin_dir();
[[nodiscard]] std::filesystem::path source_dir();
[[nodiscard]] std::filesystem::path renderrushd();
[[nodiscard]] std::filesystem::path renderrushctl();

}  // namespace rr::test
