#pragma once
#include "core/result.h"

namespace rr::app {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;

// The process-exit edge: bad arguments or configuration are usage errors, the rest failures.
[[nodiscard]] inline int exit_code_for(const Error& e) {
    return e.code == Errc::invalid_argument || e.code == Errc::config ? kExitUsage : kExitFailed;
}

}  // namespace rr::app
