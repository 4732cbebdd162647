#pragma once
// Operator programs run around a job (a virus scan before, a notification after): argv only,
// never a shell, in their own process group, with a deadline. Blocking: call from a worker
// thread, never from the loop.

#include <chrono>
#include <map>
#include <stop_token>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/result.h"

namespace rr::service {

// What a hook did. `exit_code` is -1 when it was killed (timeout, cancel) or died by a signal.
struct HookRun {
    std::string kind;  // before, after_success, after_failure
    std::vector<std::string> argv;
    int exit_code = -1;
    bool timed_out = false;
    std::string out, err;  // the first 64 KiB of each
    [[nodiscard]] bool ok() const { return exit_code == 0; }
    // The first non-empty stderr line (else stdout's), for an error message.
    [[nodiscard]] std::string first_line() const;
    // One line for the job's events: "before clamdscan: exit 1: <output>".
    [[nodiscard]] std::string summary() const;
};

enum class HookKind { before, after_success, after_failure };

// One configured hook, ready to run once its placeholders are filled in.
struct HookCommand {
    HookKind kind = HookKind::before;
    std::vector<std::string> argv;
    std::chrono::milliseconds timeout{60000};
};

// The hooks of one kind that apply to a job: the watch's, then the profile's.
[[nodiscard]] std::vector<HookCommand> hooks_for(const Watch* watch, const Profile* profile,
                                                 HookKind kind);

// Replaces {input} {output} {sidecar} {job_id} {state} in each argument; other braces stay.
[[nodiscard]] std::vector<std::string> expand_hook(
    const std::vector<std::string>& argv, const std::map<std::string, std::string>& values);

// Runs argv[0] (looked up in PATH) with stdin on /dev/null and the output captured. On
// timeout or a stop request the whole process group is killed. Errors: the program could not
// be started (io).
[[nodiscard]] Result<HookRun> run_hook(const HookCommand& hook, std::stop_token stop);

// Runs `hooks` in order with `values` filled in; with `until_failure`, stops after the first
// that fails (a hook that cannot start is recorded with exit_code -1 and the reason in err).
[[nodiscard]] std::vector<HookRun> run_hooks(const std::vector<HookCommand>& hooks,
                                             const std::map<std::string, std::string>& values,
                                             std::stop_token stop, bool until_failure);

}  // namespace rr::service
