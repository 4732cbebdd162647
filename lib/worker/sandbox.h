#pragma once
// Confinement a worker applies to itself before it touches input bytes: no new privileges,
// an address-space limit, Landlock (the filesystem it may read and write) and a seccomp-bpf
// filter. Irreversible for the process and inherited by every thread started afterwards.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/result.h"

namespace rr::worker {

struct Allowance {
    std::vector<std::filesystem::path> read;   // files or directories, read only
    std::vector<std::filesystem::path> write;  // directories: create, write, rename, remove
    uint64_t address_space = 0;                // bytes for RLIMIT_AS; 0 leaves it alone
};

struct Confinement {
    int landlock_abi = 0;  // 0: Landlock unavailable here, the filesystem is not limited
    std::string note;      // why, when something could not be applied
};

[[nodiscard]] Result<Confinement> confine(const Allowance& allow);

}  // namespace rr::worker
