#pragma once
// Running `renderrushd process` the way a user does, and reading what it left behind.

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/process.h"

namespace rr::test {

struct ProcessRun {
    CommandResult cmd;
    std::filesystem::path output;
    [[nodiscard]] nlohmann::json sidecar() const;
    [[nodiscard]] std::filesystem::path sidecar_path() const;
};

// renderrushd process INPUT -o OUTPUT <extra...>
[[nodiscard]] ProcessRun process(const std::filesystem::path& input,
                                 const std::filesystem::path& output,
                                 const std::vector<std::string>& extra = {});

// True when `dir` holds nothing but the listed names (no temp or partial files).
[[nodiscard]] bool only_contains(const std::filesystem::path& dir, std::vector<std::string> names);

}  // namespace rr::test
