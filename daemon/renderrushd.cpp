// renderrushd: the daemon, and `renderrushd process` for one file in the foreground.

#include <CLI/CLI.hpp>
#include <cstdio>

#include "app/exit_codes.h"
#include "app/process_command.h"
#include "app/signals.h"
#include "core/version.h"

int main(int argc, char** argv) {
    CLI::App app{"RenderRush: watch folders in, processed video out", "renderrushd"};
    app.set_version_flag("--version", rr::kVersion);
    app.require_subcommand(0, 1);

    rr::app::ProcessArgs proc;
    std::string config;
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

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        int rc = app.exit(e);
        return rc == 0 ? 0 : rr::app::kExitUsage;
    }
    if (!config.empty()) proc.config = config;

    if (*process) {
        rr::app::StopOnSignals signals;
        return rr::app::run_process_command(proc, signals.token());
    }
    std::fputs(app.help().c_str(), stderr);
    return rr::app::kExitUsage;
}
