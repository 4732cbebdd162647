#include "control/peer.h"

#include <grp.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

namespace rr::control {
namespace {

// The groups a user belongs to (primary and supplementary).
std::vector<gid_t> groups_of(uid_t uid, gid_t primary) {
    std::vector<gid_t> groups{primary};
    std::vector<char> buf(16384);
    struct passwd pw {
    }, *out = nullptr;
    if (getpwuid_r(uid, &pw, buf.data(), buf.size(), &out) != 0 || !out) return groups;
    int n = 64;
    std::vector<gid_t> list(static_cast<size_t>(n));
    if (getgrouplist(out->pw_name, out->pw_gid, list.data(), &n) == -1) {
        list.resize(static_cast<size_t>(n));
        getgrouplist(out->pw_name, out->pw_gid, list.data(), &n);
    }
    list.resize(static_cast<size_t>(std::max(n, 0)));
    groups.insert(groups.end(), list.begin(), list.end());
    return groups;
}

}  // namespace

std::optional<unsigned> group_id(const std::string& name) {
    if (name.empty()) return std::nullopt;
    std::vector<char> buf(16384);
    struct group gr {
    }, *out = nullptr;
    if (getgrnam_r(name.c_str(), &gr, buf.data(), buf.size(), &out) != 0 || !out)
        return std::nullopt;
    return out->gr_gid;
}

Peer identify_peer(int fd, const AccessRules& rules) {
    Peer p;
    ucred cred{};
    socklen_t len = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return p;
    p.pid = cred.pid;
    p.uid = cred.uid;
    p.gid = cred.gid;
    const bool privileged = cred.uid == 0 || cred.uid == getuid();
    bool in_socket_group = false, in_admin_group = false;
    for (gid_t g : groups_of(cred.uid, cred.gid)) {
        in_socket_group = in_socket_group || g == rules.socket_gid;
        in_admin_group = in_admin_group || (rules.admin_gid && g == *rules.admin_gid);
    }
    p.may_read = privileged || in_socket_group || in_admin_group;
    p.may_change = privileged || in_admin_group;
    return p;
}

}  // namespace rr::control
