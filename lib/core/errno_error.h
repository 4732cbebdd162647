#pragma once
#include <cerrno>
#include <cstring>
#include <string>

#include "core/result.h"

namespace rr {

// Maps errno to our error kinds, keeping ENOSPC distinct so a job can say "disk full".
inline Error errno_error(int err, const std::string& what) {
    Errc code = err == ENOSPC ? Errc::no_space : err == ENOENT ? Errc::not_found : Errc::io;
    return Error{code, what + ": " + std::strerror(err)};
}

}  // namespace rr
