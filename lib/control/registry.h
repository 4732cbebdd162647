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

// The connection a command came on, as far as a streaming command (subscribe) needs it; the
// control socket and the web dashboard's WebSocket each implement it.
class Subscriber {
  public:
    // From now on this connection receives the broadcast events.
    virtual void subscribe() = 0;

  protected:
    ~Subscriber() = default;
};

struct CommandContext {
    const Request& request;
    const Peer& peer;
    Subscriber& connection;
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
