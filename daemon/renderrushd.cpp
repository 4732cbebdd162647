// renderrushd: the daemon, and `renderrushd process` for one file in the foreground.

#include <CLI/CLI.hpp>
#include <cstdio>

#include "app/daemon_command.h"
#include "app/exit_codes.h"
#include "app/process_command.h"
#include "app/signals.h"
#include "app/worker_command.h"
#include "core/version.h"

int main(int argc, char** argv) {
    CLI::App app{"RenderRush: watch folders in, processed video out", "renderrushd"};
    app.set_version_flag("--version", rr::kVersion);
    app.require_subcommand(0, 1);

    rr::app::ProcessArgs proc;
    std::string config, daemon_config, log_level;
    bool check_config = false;
    app.add_option("--config", daemon_config,
                   "Configuration file (default /etc/renderrush/renderrush.yaml)");
    app.add_flag("--check-config", check_config,
                 "Validate the configuration, print every problem, and exit");
    app.add_option("--log-level", log_level,
                   "trace|debug|info|warn|error (default: from the configuration)")
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
    auto* process = app.add_subcommand("process", "Process one file in the foreground and exit");
    process->add_option("INPUT", proc.input, "Video file to process")->required();
    process->add_option("-o,--output", proc.output, "Output file (.mp4 or .mkv)")->required();
    process->add_option("--config", config, "Configuration file (default: config/renderrush.yaml)");
    auto* profile_opt =
        process->add_option("--profile", proc.profile, "Profile from the configuration");
    auto* stages_opt =
        process->add_option("--stages", proc.stages, "Stages, e.g. grayscale,blur:radius=4");
    profile_opt->excludes(stages_opt);
    process->add_option("--workers", proc.workers, "Worker threads (default: one per core)")
        ->check(CLI::Range(1, 1024));
    process->add_option("--chunk-seconds", proc.chunk_seconds, "Target chunk length in seconds")
        ->check(CLI::Range(0.5, 3600.0));
    process->add_flag("--json", proc.json, "Print the sidecar JSON on stdout when done");
    process->add_option("--log-level", proc.log_level, "trace|debug|info|warn|error")
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));

    int worker_fd = -1;
    auto* worker = app.add_subcommand("worker", "")  // started by renderrushd itself; hidden
                       ->group("");
    worker->add_option("--fd", worker_fd)->required();
    bool zygote = false;
    worker->add_flag("--zygote", zygote);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        int rc = app.exit(e);
        return rc == 0 ? 0 : rr::app::kExitUsage;
    }
    if (!config.empty()) proc.config = config;

#ifdef RENDERRUSH_FAULT_HOOKS
    constexpr bool kFaultHooks = true;  // the test build's renderrushd-faults
#else
    constexpr bool kFaultHooks = false;
#endif
    if (*worker && zygote)
        return rr::app::run_zygote_command(worker_fd, kFaultHooks, {argv, size_t(argc)});
    if (*worker) return rr::app::run_worker_command(worker_fd, kFaultHooks);
    if (*process) {
        rr::app::StopOnSignals signals;
        return rr::app::run_process_command(proc, signals.token());
    }
    const auto cfg =
        daemon_config.empty() ? std::nullopt : std::optional<std::filesystem::path>(daemon_config);
    if (check_config) return rr::app::run_check_config(cfg);
    return rr::app::run_daemon(cfg, log_level);
}
