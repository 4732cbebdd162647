#include "app/process_command.h"

#include <cstdio>
#include <iostream>

#include "app/exit_codes.h"
#include "app/progress_bar.h"
#include "core/config.h"
#include "core/logging.h"
#include "pipeline/job.h"
#include "pipeline/local_run.h"
#include "worker/zygote.h"

namespace rr::app {
namespace {

Result<Config> load(const ProcessArgs& args) {
    if (args.config) return load_config_file(*args.config);
    if (auto path = default_config_path()) return load_config_file(*path);
    return Config{};
}

Result<Profile> select_profile(const ProcessArgs& args, const Config& cfg) {
    if (args.profile && args.stages) {
        return make_error(Errc::invalid_argument, "--profile and --stages cannot be combined");
    }
    if (args.profile) {
        auto it = cfg.profiles.find(*args.profile);
        if (it == cfg.profiles.end()) {
            std::string known;
            for (const auto& [name, p] : cfg.profiles) known += (known.empty() ? "" : ", ") + name;
            return make_error(
                Errc::invalid_argument,
                "unknown profile '" + *args.profile + "' in " +
                    (cfg.source.empty() ? std::string("built-in defaults") : cfg.source.string()) +
                    " (known: " + (known.empty() ? "none" : known) + ")");
        }
        return it->second;
    }
    Profile profile;
    if (auto it = cfg.profiles.find("default"); it != cfg.profiles.end()) profile = it->second;
    profile.name = args.stages ? "" : profile.name;
    if (args.stages) {
        RR_ASSIGN(profile.stages, parse_stage_list(*args.stages));
    }
    return profile;
}

}  // namespace

int run_process_command(const ProcessArgs& args, std::stop_token stop) {
    auto cfg = load(args);
    if (!cfg) {
        std::fprintf(stderr, "renderrushd: %s\n", cfg.error().message.c_str());
        return kExitUsage;
    }
    auto logger =
        make_logger("renderrushd", args.log_level.empty() ? cfg->log_level : args.log_level, false);
    install_ffmpeg_log_bridge(logger);

    auto profile = select_profile(args, *cfg);
    if (!profile) {
        std::fprintf(stderr, "renderrushd: %s\n", profile.error().message.c_str());
        return exit_code_for(profile.error());
    }
    // The container follows the output's extension when it names one we write.
    profile->container =
        container_for_extension(args.output.extension().string()).value_or(profile->container);
    if (Status valid = pipeline::validate_profile(*profile, cfg->paths.models_dir); !valid) {
        std::fprintf(stderr, "renderrushd: %s\n", valid.error().message.c_str());
        return exit_code_for(valid.error());
    }

    // Before any input is touched: the fork server every worker comes from (worker/zygote.h).
    auto zygote = worker::Zygote::start("/proc/self/exe", logger);
    if (!zygote)
        logger->warn("{}; workers are started with posix_spawn (about 0.3 s of CPU more each)",
                     zygote.error().message);

    pipeline::LocalJob job;
    job.zygote = zygote ? zygote->get() : nullptr;
    job.input = args.input;
    job.output = args.output;
    job.profile_name = profile->name;
    job.settings.profile = *profile;
    job.settings.workers = args.workers.value_or(cfg->workers);
    pipeline::configure_opencv_threads(job.settings.workers);
    job.settings.chunk_seconds = args.chunk_seconds.value_or(cfg->chunk_seconds);
    job.settings.limits = cfg->limits;
    job.settings.models_dir = cfg->paths.models_dir;

    pipeline::Progress progress;
    Result<pipeline::LocalResult> result = [&] {
        ProgressBar bar(progress, stderr);
        return pipeline::run_local(job, logger, progress, stop);
    }();
    if (!result) {
        // One line naming the file and the reason; nothing was left at the output path.
        std::fprintf(stderr, "renderrushd: %s: %s\n", args.input.c_str(),
                     result.error().message.c_str());
        return exit_code_for(result.error());
    }
    if (args.json) std::cout << result->sidecar.dump(2) << std::endl;
    logger->info("{} -> {} (sidecar {})", args.input.string(), args.output.string(),
                 result->sidecar_path.string());
    return kExitOk;
}

}  // namespace rr::app
