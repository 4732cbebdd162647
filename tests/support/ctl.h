#pragma once
// renderrushctl against a test daemon's control socket, the way an operator runs it.

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/daemon.h"
#include "support/process.h"

namespace rr::test {

// renderrushctl --socket <the daemon's control.sock> ARGS... The timeout only bounds a hung
// command: `submit --wait` lasts as long as its job.
[[nodiscard]] CommandResult ctl(const Daemon& d, std::vector<std::string> args,
                                std::chrono::seconds timeout = std::chrono::seconds(120));

// `renderrushctl --json ARGS...` parsed; null when the command failed.
[[nodiscard]] nlohmann::json ctl_json(const Daemon& d, std::vector<std::string> args);

// The entry for `node_id` in a `nodes` reply; null when it is not listed.
[[nodiscard]] nlohmann::json node_of(const nlohmann::json& nodes, const std::string& node_id);
// The entry for `node_id` in `d`'s `nodes` listing, asked now; null when it is not listed.
[[nodiscard]] nlohmann::json listed_node(const Daemon& d, const std::string& node_id);
// That entry's state (active, draining, lost); empty when it is not listed.
[[nodiscard]] std::string node_state(const Daemon& d, const std::string& node_id);

}  // namespace rr::test
