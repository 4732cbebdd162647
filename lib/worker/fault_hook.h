#pragma once
// Test-only faults, so the suite can prove that a misbehaving worker costs one attempt and
// nothing else. Honoured only by a renderrushd built with RENDERRUSH_FAULT_HOOKS (the test
// build's `renderrushd-faults`); the shipped binary never reads the variable.
//
//   RENDERRUSH_FAULT=ACTION[:TASK[:MATCH[:once]]]
//     ACTION  crash (SIGSEGV) | hang | memory (allocate past the limit) | socket (open a TCP
//             socket) | open=PATH (read a file outside the allowance)
//     TASK    prepare | chunk | audio | publish | any (default: chunk)
//     MATCH   only for inputs whose path contains this text (default: every input)
//     once    only the first worker of this task in the job's work folder (a marker file
//             there remembers it), so the retry succeeds

#include <filesystem>
#include <string>

#include "core/result.h"

namespace rr::worker {

inline constexpr const char* kFaultVariable = "RENDERRUSH_FAULT";

// Runs in a confined worker just before its task. crash/hang/memory do not return;
// socket/open return the error the task then fails with (refused, as it should be, or a
// note that the sandbox let it through).
[[nodiscard]] Status inject_fault(const std::string& spec, const std::string& task,
                                  const std::filesystem::path& input,
                                  const std::filesystem::path& work_dir);

}  // namespace rr::worker
