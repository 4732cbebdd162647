#pragma once
// Commands by name, with their help text and whether they change anything (access control).

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "control/protocol.h"
#include "core/result.h"

namespace rr::control {

struct Peer {
    int pid = 0;
    unsigned uid = 0, gid = 0;
    bool may_read = false;    // member of the socket's group (or root / the daemon's user)
    bool may_change = false;  // root, the daemon's user, or control.admin_group
};

class Connection;  // the server's; handlers that stream (subscribe) use it

struct CommandContext {
    const Request& request;
    const Peer& peer;
    Connection& connection;
};

class Registry {
  public:
    using Handler = std::function<Reply(const CommandContext&)>;
    // Errc::conflict when `name` is taken: two handlers for one command is a wiring bug that a
    // silent replace would hide until someone runs the command.
    [[nodiscard]] Status add(std::string name, std::string help, bool mutating, Handler handler);
    // Runs the command after the access check; unknown names are `unsupported`.
    [[nodiscard]] Reply dispatch(const CommandContext& ctx) const;
    [[nodiscard]] nlohmann::json list() const;  // for list-commands
    [[nodiscard]] bool mutating(const std::string& name) const;

  private:
    struct Entry {
        std::string help;
        bool mutating = false;
        Handler handler;
    };
    std::map<std::string, Entry> commands_;
};

}  // namespace rr::control
