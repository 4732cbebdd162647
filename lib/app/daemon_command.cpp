#include "app/daemon_command.h"

#include <cstdio>
#include <cstdlib>

#include "app/cluster_command.h"
#include "app/exit_codes.h"
#include "core/config.h"
#include "core/logging.h"
#include "pipeline/job_settings.h"
#include "pipeline/profile_check.h"
#include "service/service.h"

namespace rr::app {
namespace {

Result<std::filesystem::path> config_path(const std::optional<std::filesystem::path>& given) {
    if (given) return *given;
    if (auto found = default_config_path()) return *found;
    return make_error(
        Errc::config,
        "no configuration: pass --config FILE (or install /etc/renderrush/renderrush.yaml)");
}

// The configuration file to use, read and parsed; problems are printed.
std::optional<std::pair<std::filesystem::path, Config>> load_parsed(
    const std::optional<std::filesystem::path>& given) {
    auto path = config_path(given);
    if (!path) {
        std::fprintf(stderr, "renderrushd: %s\n", path.error().message.c_str());
        return std::nullopt;
    }
    auto cfg = load_config_file(*path);
    if (!cfg) {
        std::fprintf(stderr, "%s\n", cfg.error().message.c_str());
        return std::nullopt;
    }
    return std::make_pair(*path, std::move(cfg).value());
}

// Where a profile problem was written: the setting itself, else its section, else the profile.
SourceMark mark_for(const Profile& profile, const std::string& setting) {
    if (setting.rfind("stages[", 0) == 0) {
        const size_t i = std::stoul(setting.substr(7));
        if (i < profile.stages.size() && profile.stages[i].mark) return *profile.stages[i].mark;
    }
    for (const std::string& key : {setting, std::string("video")}) {
        if (auto it = profile.marks.find(key); it != profile.marks.end()) return it->second;
    }
    auto it = profile.marks.find("profile");
    return it != profile.marks.end() ? it->second : SourceMark{};
}

}  // namespace

int run_check_config(const std::optional<std::filesystem::path>& given) {
    auto loaded = load_parsed(given);
    if (!loaded) return kExitUsage;
    const auto& [path, cfg] = *loaded;
    // Encoders print banners as they open; the checks below report what matters.
    install_ffmpeg_log_bridge(make_logger("renderrushd", "warn", false));
    // Each profile is proven runnable: stages built, encoder opened with its settings.
    std::vector<ConfigIssue> issues;
    std::vector<std::string> encoders;
    for (const auto& [name, profile] : cfg.profiles) {
        std::string encoder;
        for (auto& p : pipeline::check_profile_runs(profile, cfg.paths.models_dir, &encoder)) {
            issues.push_back(
                {mark_for(profile, p.setting), "profiles." + name + "." + p.setting, p.message});
        }
        if (!encoder.empty()) encoders.push_back(name + ": " + encoder);
    }
    if (!issues.empty()) {
        std::fprintf(stderr, "%s\n", format_config_issues(path, issues).c_str());
        return kExitUsage;
    }
    if (!check_cluster(cfg)) return kExitFailed;
    std::printf("%s: OK (%zu watches, %zu profiles%s)\n", path.c_str(), cfg.watches.size(),
                cfg.profiles.size(),
                cfg.cluster ? (", cluster node " + cfg.cluster->node_id).c_str() : "");
    for (const auto& e : encoders) std::printf("  %s\n", e.c_str());
    return kExitOk;
}

int run_cluster_init_command(const std::optional<std::filesystem::path>& given) {
    auto loaded = load_parsed(given);
    if (!loaded) return kExitUsage;
    return run_cluster_init(loaded->second);
}

int run_daemon(const std::optional<std::filesystem::path>& given, const std::string& log_level,
               bool fault_hooks) {
    auto loaded = load_parsed(given);
    if (!loaded) return kExitUsage;
    auto& [path, cfg] = *loaded;
    // Under systemd, journald stamps time and priority itself.
    const bool journald = std::getenv("JOURNAL_STREAM") != nullptr;
    auto logger =
        make_logger("renderrushd", log_level.empty() ? cfg.log_level : log_level, journald);
    install_ffmpeg_log_bridge(logger);
    // A reload keeps the worker count until a restart, so this holds for the daemon's life.
    pipeline::configure_opencv_threads(cfg.workers);
    const char* fault = fault_hooks ? std::getenv("RENDERRUSH_DAEMON_FAULT") : nullptr;
    auto service = service::Service::create(std::move(cfg), path, logger, fault ? fault : "");
    if (!service) {
        logger->error("cannot start: {}", service.error().message);
        return service.error().code == Errc::config ? kExitUsage : kExitFailed;
    }
    return (*service)->run();
}

}  // namespace rr::app
