#include "support/ctl.h"

namespace rr::test {

CommandResult ctl(const Daemon& d, std::vector<std::string> args, std::chrono::seconds timeout) {
    args.insert(args.begin(),
                {renderrushctl().string(), "--socket", (d.dir("run") / "control.sock").string()});
    return run(args, timeout);
}

nlohmann::json ctl_json(const Daemon& d, std::vector<std::string> args) {
    args.insert(args.begin(), "--json");
    auto r = ctl(d, std::move(args));
    if (r.exit_code != 0) return nullptr;
    return nlohmann::json::parse(r.out, nullptr, false);
}

nlohmann::json node_of(const nlohmann::json& nodes, const std::string& node_id) {
    if (!nodes.is_object()) return nullptr;
    for (const auto& n : nodes.value("nodes", nlohmann::json::array()))
        if (n.value("node_id", "") == node_id) return n;
    return nullptr;
}

nlohmann::json listed_node(const Daemon& d, const std::string& node_id) {
    return node_of(ctl_json(d, {"nodes"}), node_id);
}

std::string node_state(const Daemon& d, const std::string& node_id) {
    const auto n = listed_node(d, node_id);
    return n.is_object() ? n.value("state", "") : "";
}

}  // namespace rr::test
