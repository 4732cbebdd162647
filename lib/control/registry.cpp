#include "control/registry.h"

namespace rr::control {

Status Registry::add(std::string name, std::string help, bool mutating, Handler handler) {
    if (commands_.count(name))
        return make_error(Errc::conflict, "control command \"" + name + "\" is registered twice");
    commands_.emplace(std::move(name), Entry{std::move(help), mutating, std::move(handler)});
    return {};
}

bool Registry::mutating(const std::string& name) const {
    auto it = commands_.find(name);
    return it != commands_.end() && it->second.mutating;
}

Reply Registry::dispatch(const CommandContext& ctx) const {
    auto it = commands_.find(ctx.request.cmd);
    Reply reply;
    if (it == commands_.end()) {
        reply = Reply::failure(Code::unsupported, "unsupported command \"" + ctx.request.cmd +
                                                      "\" (see list-commands)");
    } else if (!(it->second.mutating ? ctx.peer.may_change : ctx.peer.may_read)) {
        reply = Reply::failure(
            Code::forbidden,
            "\"" + ctx.request.cmd + "\" is not allowed for uid " + std::to_string(ctx.peer.uid) +
                (it->second.mutating ? " (needs root, the daemon's user or control.admin_group)"
                                     : " (needs the control socket's group)"));
    } else {
        try {
            reply = it->second.handler(ctx);
        } catch (const std::exception& e) {
            // A handler bug must not take the daemon down with it.
            reply = Reply::failure(Code::error, std::string("internal error: ") + e.what());
        }
    }
    reply.id = ctx.request.id;
    return reply;
}

nlohmann::json Registry::list() const {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& [name, e] : commands_)
        out.push_back({{"name", name}, {"help", e.help}, {"mutating", e.mutating}});
    return out;
}

}  // namespace rr::control
