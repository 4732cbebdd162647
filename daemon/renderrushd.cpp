// renderrushd: the daemon, and `renderrushd process` for one file in the foreground.

#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>
#include <vector>

#include "app/daemon_command.h"
#include "app/exit_codes.h"
#include "app/process_command.h"
#include "app/signals.h"
#include "app/worker_command.h"
#include "core/choices.h"
#include "core/version.h"

namespace {

// The spellings the configuration accepts for E, so flags and config never disagree.
template <rr::Choice E>
std::vector<std::string> choice_names() {
    const auto& names = rr::ChoiceNames<E>::names;
    return {names.begin(), names.end()};
}

}  // namespace

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
    process->add_option("INPUT", proc.input, "Video file to process");
    process->add_option("-o,--output", proc.output,
                        "Output file; the extension picks the container: .mp4 .m4v .mov (MP4), "
                        ".mkv (Matroska), .webm (WebM: VP9 or AV1 with Opus)");
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
    auto& enc = proc.encode;
    process->add_option("--codec", enc.codec, "Video codec (overrides the profile)")
        ->check(CLI::IsMember(choice_names<rr::VideoCodec>()));
    process
        ->add_option("--crf", enc.crf, "Constant quality, 0 (best) to 63; codec default if unset")
        ->check(CLI::Range(0, 63));
    process->add_option("--preset", enc.preset,
                        "Speed preset, x264 names: ultrafast..medium..veryslow");
    process->add_option("--hwaccel", enc.hwaccel, "Hardware encoder to try first")
        ->check(CLI::IsMember(choice_names<rr::HwAccel>()));
    process->add_option("--pix-fmt", enc.pix_fmt, "Output pixel format")
        ->check(CLI::IsMember({"yuv420p", "yuv420p10le", "yuv422p", "yuv444p"}));
    process
        ->add_option("--audio-codec", enc.audio_codec,
                     "copy (when the container allows), aac, opus")
        ->check(CLI::IsMember(choice_names<rr::AudioCodec>()));
    process
        ->add_option("--audio-bitrate", enc.audio_bitrate, "Audio bitrate when encoding, e.g. 128k")
        ->check(CLI::Validator(
            [](std::string& v) -> std::string {
                const auto digits = v.find_first_not_of("0123456789.");
                const bool ok = digits != 0 && !v.empty() &&
                                (digits == std::string::npos ||
                                 (digits == v.size() - 1 &&
                                  std::string("kKmM").find(v.back()) != std::string::npos));
                return ok ? std::string() : "expected a bitrate such as 128k or 96000, got " + v;
            },
            "RATE"));
    process->add_flag("-y,--overwrite", proc.overwrite,
                      "Replace an existing output (default: refuse it, exit 2)");
    process->add_flag("--dry-run", proc.dry_run,
                      "Probe and plan: print the chunks and resolved settings, write nothing");
    process->add_flag("--list-stages", proc.list_stages,
                      "Print every stage with its parameters (ranges, defaults) and exit");
    process->add_flag("--list-profiles", proc.list_profiles,
                      "Print the configuration's profiles with their settings and exit");
    process->add_flag("--json", proc.json,
                      "Machine-readable output: the sidecar when done, or the plan/lists");
    process->add_option("--log-level", proc.log_level, "trace|debug|info|warn|error")
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));

    auto* cluster = app.add_subcommand("cluster", "Cluster mode set-up (docs/CLUSTER.md)");
    cluster->require_subcommand(1, 1);
    auto* cluster_init = cluster->add_subcommand(
        "init", "Create the queue schema and write the storage marker (once per cluster)");
    cluster_init->add_option("--config", daemon_config, "Configuration file");

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
    if (*cluster_init) return rr::app::run_cluster_init_command(cfg);
    if (check_config) return rr::app::run_check_config(cfg);
    return rr::app::run_daemon(cfg, log_level, kFaultHooks);
}
