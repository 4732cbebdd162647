#include "core/filesystem_kind.h"

#include <sys/vfs.h>

#include <cerrno>

#include "core/errno_error.h"

namespace rr {

std::optional<std::string> network_filesystem_name(long f_type) {
    // The kernel's magic numbers (linux/magic.h and the file systems' own headers), written out
    // since not all of them are in the headers Debian ships.
    switch (static_cast<unsigned long>(f_type) & 0xffffffffUL) {
        case 0x6969UL:
            return "nfs";
        case 0xff534d42UL:
            return "cifs";
        case 0xfe534d42UL:
            return "smb2";
        case 0x517bUL:
            return "smb";
        case 0x00c36400UL:
            return "ceph";
        case 0x5346414fUL:
            return "afs";
        case 0x01021997UL:
            return "9p";
        default:
            return std::nullopt;
    }
}

Result<std::optional<std::string>> network_filesystem_of(const std::filesystem::path& path) {
    std::filesystem::path probe = path;
    std::error_code ec;
    while (!probe.empty() && !std::filesystem::exists(probe, ec) && probe.has_parent_path() &&
           probe.parent_path() != probe) {
        probe = probe.parent_path();
    }
    struct statfs st {};
    if (::statfs(probe.c_str(), &st) != 0) {
        return errno_error(errno, "cannot tell what file system holds " + path.string());
    }
    return network_filesystem_name(static_cast<long>(st.f_type));
}

}  // namespace rr
