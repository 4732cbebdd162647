#include "app/process_command.h"

#include <cstdio>
#include <iostream>

#include "app/dry_run.h"
#include "app/exit_codes.h"
#include "app/listings.h"
#include "app/progress_bar.h"
#include "core/config.h"
#include "core/logging.h"
#include "media/container.h"
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

// `flag`'s value as one of E's spellings.
template <Choice E>
Status set_choice(const std::optional<std::string>& given, const char* flag, E& into) {
    if (!given) return {};
    auto parsed = parse_choice<E>(*given);
    if (!parsed) {
        std::string names;
        for (auto n : ChoiceNames<E>::names) names += (names.empty() ? "" : "|") + std::string(n);
        return make_error(Errc::invalid_argument,
                          std::string(flag) + " '" + *given + "': expected " + names);
    }
    into = *parsed;
    return {};
}

Status apply_overrides(const EncodeOverrides& o, Profile& p) {
    RR_TRY(set_choice(o.codec, "--codec", p.video.codec));
    if (o.crf) p.video.crf = *o.crf;
    if (o.preset) p.video.preset = *o.preset;
    RR_TRY(set_choice(o.hwaccel, "--hwaccel", p.video.hwaccel));
    if (o.pix_fmt) p.video.pix_fmt = *o.pix_fmt;
    RR_TRY(set_choice(o.audio_codec, "--audio-codec", p.audio.codec));
    if (o.audio_bitrate) p.audio.bitrate = *o.audio_bitrate;
    return {};
}

// Everything about the paths that can be refused before any work: no output is created and
// the input is not read.
Result<Container> check_paths(const ProcessArgs& args) {
    if (args.input.empty()) return make_error(Errc::invalid_argument, "no INPUT file given");
    if (args.output.empty()) return make_error(Errc::invalid_argument, "no output given (-o FILE)");
    RR_ASSIGN(Container container, media::container_for_output(args.output));
    std::error_code ec;
    if (!std::filesystem::exists(args.input, ec))
        return make_error(Errc::not_found, args.input.string() + ": no such file");
    if (!std::filesystem::is_regular_file(args.input, ec))
        return make_error(Errc::invalid_argument, args.input.string() + " is not a regular file");
    if (!args.dry_run && !args.overwrite && std::filesystem::exists(args.output, ec)) {
        return make_error(
            Errc::invalid_argument,
            "output " + args.output.string() + " exists; pass -y (--overwrite) to replace it");
    }
    return container;
}

int fail_usage(const Error& e) {
    std::fprintf(stderr, "renderrushd: %s\n", e.message.c_str());
    return exit_code_for(e);
}

}  // namespace

int run_process_command(const ProcessArgs& args, std::stop_token stop) {
    if (args.list_stages) {
        std::cout << list_stages(args.json);
        return kExitOk;
    }
    auto cfg = load(args);
    if (!cfg) {
        std::fprintf(stderr, "renderrushd: %s\n", cfg.error().message.c_str());
        return kExitUsage;
    }
    if (args.list_profiles) {
        std::cout << list_profiles(*cfg, args.json);
        return kExitOk;
    }
    auto container = check_paths(args);
    if (!container) return fail_usage(container.error());

    auto logger =
        make_logger("renderrushd", args.log_level.empty() ? cfg->log_level : args.log_level, false);
    install_ffmpeg_log_bridge(logger);

    auto profile = select_profile(args, *cfg);
    if (!profile) return fail_usage(profile.error());
    if (Status st = apply_overrides(args.encode, *profile); !st) return fail_usage(st.error());
    profile->container = *container;
    if (Status st = media::check_container_codecs(profile->container, profile->video.codec,
                                                  profile->audio.codec);
        !st) {
        return fail_usage(st.error().context(args.output.string()));
    }
    if (Status valid = pipeline::validate_profile(*profile, cfg->paths.models_dir); !valid) {
        return fail_usage(valid.error());
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

    if (args.dry_run) {
        auto plan = plan_dry_run(job, logger, stop);
        if (!plan) {
            std::fprintf(stderr, "renderrushd: %s: %s\n", args.input.c_str(),
                         plan.error().message.c_str());
            return exit_code_for(plan.error());
        }
        std::cout << (args.json ? plan->dump(2) + "\n" : format_plan(*plan));
        return kExitOk;
    }

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
