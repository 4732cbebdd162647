#pragma once
// Who is on the other end of a Unix socket and what they may do: the access rules shared by
// the control socket and the web dashboard's web.sock, so both answer the same person alike.

#include <optional>
#include <string>

#include "control/registry.h"

namespace rr::control {

struct AccessRules {
    unsigned socket_gid = 0;            // members may read
    std::optional<unsigned> admin_gid;  // members may also change
};

// The gid of a group name; nullopt when the name is empty or unknown.
[[nodiscard]] std::optional<unsigned> group_id(const std::string& name);

// The peer of a connected Unix socket (SO_PEERCRED) judged by `rules`: root and the daemon's
// own user may do everything, the socket group may read, the admin group may also change.
[[nodiscard]] Peer identify_peer(int fd, const AccessRules& rules);

}  // namespace rr::control
