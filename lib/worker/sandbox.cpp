#include "worker/sandbox.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <linux/landlock.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace rr::worker {
namespace {

std::string errno_text(const char* what) {
    return std::string(what) + ": " + std::strerror(errno);
}

struct FdCloser {
    int fd = -1;
    ~FdCloser() {
        if (fd >= 0) ::close(fd);
    }
};

// ---- Landlock -------------------------------------------------------------------------------

constexpr uint64_t kFileRights = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |
                                 LANDLOCK_ACCESS_FS_READ_FILE
#ifdef LANDLOCK_ACCESS_FS_TRUNCATE
                                 | LANDLOCK_ACCESS_FS_TRUNCATE
#endif
#ifdef LANDLOCK_ACCESS_FS_IOCTL_DEV
                                 | LANDLOCK_ACCESS_FS_IOCTL_DEV
#endif
    ;

// Every right this kernel's Landlock knows: those not granted below are refused.
uint64_t handled_rights(int abi) {
    uint64_t r = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1;  // ABI 1: bits 0..12
#ifdef LANDLOCK_ACCESS_FS_REFER
    if (abi >= 2) r |= LANDLOCK_ACCESS_FS_REFER;
#endif
#ifdef LANDLOCK_ACCESS_FS_TRUNCATE
    if (abi >= 3) r |= LANDLOCK_ACCESS_FS_TRUNCATE;
#endif
#ifdef LANDLOCK_ACCESS_FS_IOCTL_DEV
    if (abi >= 5) r |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
#endif
    return r;
}

constexpr uint64_t kRead = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR;

Status add_rule(int ruleset, const std::filesystem::path& path, uint64_t rights, uint64_t handled) {
    FdCloser fd{::open(path.c_str(), O_PATH | O_CLOEXEC)};
    if (fd.fd < 0) {
        if (errno == ENOENT) return {};  // nothing there to allow
        return make_error(Errc::io, errno_text(("landlock: " + path.string()).c_str()));
    }
    struct stat st {};
    if (::fstat(fd.fd, &st) == 0 && !S_ISDIR(st.st_mode)) rights &= kFileRights;
    landlock_path_beneath_attr attr{};
    attr.allowed_access = rights & handled;
    attr.parent_fd = fd.fd;
    if (attr.allowed_access == 0) return {};
    if (::syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &attr, 0) != 0)
        return make_error(Errc::io, errno_text(("landlock rule " + path.string()).c_str()));
    return {};
}

Result<int> apply_landlock(const Allowance& allow, std::string& note) {
    const long abi =
        ::syscall(SYS_landlock_create_ruleset, nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
    if (abi < 1) {
        note = "Landlock is not available (" + std::string(std::strerror(errno)) +
               "); the worker's filesystem access is not limited";
        return 0;
    }
    const uint64_t handled = handled_rights(static_cast<int>(abi));
    landlock_ruleset_attr attr{};
    attr.handled_access_fs = handled;
    FdCloser ruleset{
        static_cast<int>(::syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0))};
    if (ruleset.fd < 0) return make_error(Errc::internal, errno_text("landlock ruleset"));

    // Libraries, their data and plugins (dlopen'ed drivers), CPU topology, devices for
    // hardware codecs: read everywhere the system keeps them; never execute anything.
    for (const char* sys : {"/usr", "/lib", "/lib64", "/lib32", "/etc", "/opt", "/proc", "/sys"})
        RR_TRY(add_rule(ruleset.fd, sys, kRead, handled));
    uint64_t dev = kRead | LANDLOCK_ACCESS_FS_WRITE_FILE;
#ifdef LANDLOCK_ACCESS_FS_IOCTL_DEV
    dev |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
#endif
    RR_TRY(add_rule(ruleset.fd, "/dev", dev, handled));
    for (const auto& p : allow.read) RR_TRY(add_rule(ruleset.fd, p, kRead, handled));
    const uint64_t write = handled & ~static_cast<uint64_t>(LANDLOCK_ACCESS_FS_EXECUTE);
    for (const auto& p : allow.write) RR_TRY(add_rule(ruleset.fd, p, write, handled));
    if (::syscall(SYS_landlock_restrict_self, ruleset.fd, 0) != 0)
        return make_error(Errc::internal, errno_text("landlock_restrict_self"));
    return static_cast<int>(abi);
}

// ---- seccomp --------------------------------------------------------------------------------

struct SeccompDeleter {
    void operator()(void* ctx) const { seccomp_release(ctx); }
};
using SeccompPtr = std::unique_ptr<void, SeccompDeleter>;

// Refused outright: running programs, inspecting or entering other processes, changing the
// system, kernel interfaces that bypass or widen the filter (io_uring, bpf, user namespaces).
constexpr const char* kRefused[] = {
    "execve",
    "execveat",
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "pidfd_getfd",
    "kcmp",
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "unshare",
    "setns",
    "mount_setattr",
    "move_mount",
    "open_tree",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    "reboot",
    "swapon",
    "swapoff",
    "acct",
    "quotactl",
    "keyctl",
    "add_key",
    "request_key",
    "open_by_handle_at",
    "name_to_handle_at",
    "settimeofday",
    "clock_settime",
    "clock_adjtime",
    "adjtimex",
    "iopl",
    "ioperm",
    "syslog",
    "personality",
    "fanotify_init",
    "lookup_dcookie",
    "vhangup",
    "sethostname",
    "setdomainname",
    "uselib",
    "nfsservctl",
};

Status apply_seccomp() {
    // Unlisted system calls are allowed: decoders, encoders, OpenCV and hardware drivers use a
    // wide, hardware-dependent set, and a missing entry would fail real jobs; the calls that
    // reach beyond this process are refused instead (with EPERM, so the worker reports it).
    SeccompPtr ctx(seccomp_init(SCMP_ACT_ALLOW));
    if (!ctx) return make_error(Errc::internal, "seccomp_init failed");
    auto refuse = [&](int nr, uint32_t action, unsigned count, const scmp_arg_cmp* cmp) -> Status {
        const int rc = seccomp_rule_add_array(ctx.get(), action, nr, count, cmp);
        if (rc != 0 && rc != -EEXIST)
            return make_error(Errc::internal, "seccomp rule: " + std::string(std::strerror(-rc)));
        return {};
    };
    for (const char* name : kRefused) {
        const int nr = seccomp_syscall_resolve_name(name);
        if (nr == __NR_SCMP_ERROR) continue;  // not on this architecture
        RR_TRY(refuse(nr, SCMP_ACT_ERRNO(EPERM), 0, nullptr));
    }
    // Sockets: only AF_UNIX (the parent's socketpair is inherited; nothing else is needed).
    const scmp_arg_cmp not_unix = SCMP_A0(SCMP_CMP_NE, AF_UNIX);
    RR_TRY(refuse(SCMP_SYS(socket), SCMP_ACT_ERRNO(EACCES), 1, &not_unix));
    RR_TRY(refuse(SCMP_SYS(socketpair), SCMP_ACT_ERRNO(EACCES), 1, &not_unix));
    // New namespaces through clone(); clone3's flags live in memory the filter cannot read,
    // so it answers ENOSYS and the C library falls back to clone().
    for (const uint64_t flag : {CLONE_NEWUSER, CLONE_NEWNS, CLONE_NEWNET, CLONE_NEWPID,
                                CLONE_NEWIPC, CLONE_NEWUTS, CLONE_NEWCGROUP}) {
        const scmp_arg_cmp ns = SCMP_A0(SCMP_CMP_MASKED_EQ, flag, flag);
        RR_TRY(refuse(SCMP_SYS(clone), SCMP_ACT_ERRNO(EPERM), 1, &ns));
    }
    RR_TRY(refuse(SCMP_SYS(clone3), SCMP_ACT_ERRNO(ENOSYS), 0, nullptr));
    if (const int rc = seccomp_load(ctx.get()); rc != 0)
        return make_error(Errc::internal, "seccomp_load: " + std::string(std::strerror(-rc)));
    return {};
}

// A daemon run as root would hand its capabilities to the worker: drop them all.
Status drop_capabilities() {
    if (::geteuid() != 0) return {};
    for (int cap = 0; cap < 64; ++cap) {
        if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno == EINVAL) break;
    }
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2]{};
    if (::syscall(SYS_capset, &header, data) != 0)
        return make_error(Errc::internal, errno_text("capset"));
    return {};
}

}  // namespace

Result<Confinement> confine(const Allowance& allow) {
    Confinement c;
    RR_TRY(drop_capabilities());
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return make_error(Errc::internal, errno_text("PR_SET_NO_NEW_PRIVS"));
    if (allow.address_space > 0) {
        const rlimit lim{allow.address_space, allow.address_space};
        if (::setrlimit(RLIMIT_AS, &lim) != 0)
            return make_error(Errc::internal, errno_text("RLIMIT_AS"));
    }
    RR_ASSIGN(c.landlock_abi, apply_landlock(allow, c.note));
    RR_TRY(apply_seccomp());
    return c;
}

}  // namespace rr::worker
