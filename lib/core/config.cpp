#include "core/config.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "core/yaml_reader.h"

namespace rr {
namespace {

void read_stages(const YAML::Node& node, const std::string& path, ConfigIssues& issues,
                 std::vector<StageSpec>& out) {
    if (!node || node.IsNull()) return;
    if (!node.IsSequence()) {
        issues.add(node, path, "expected a list of stages");
        return;
    }
    for (size_t i = 0; i < node.size(); ++i) {
        const YAML::Node item = node[i];
        const std::string item_path = path + "[" + std::to_string(i) + "]";
        StageSpec spec;
        spec.mark = mark_of(item);
        if (item.IsScalar()) {
            spec.name = item.Scalar();
        } else if (item.IsMap() && item.size() == 1) {
            auto kv = item.begin();
            spec.name = kv->first.as<std::string>();
            const YAML::Node params = kv->second;
            if (params && !params.IsNull()) {
                if (!params.IsMap()) {
                    issues.add(params, item_path + "." + spec.name,
                               "stage parameters must be a mapping");
                    continue;
                }
                spec.params = yaml_to_json(params);
            }
        } else {
            issues.add(item, item_path, "a stage is `name` or `{name: {key: value}}`");
            continue;
        }
        out.push_back(std::move(spec));
    }
}

void read_profile(const std::string& name, const YAML::Node& node, ConfigIssues& issues,
                  Profile& profile) {
    const std::string path = "profiles." + name;
    profile.name = name;
    MapReader r(node, path, issues);
    read_stages(r.child("stages"), r.child_path("stages"), issues, profile.stages);
    {
        MapReader v(r.child("video"), r.child_path("video"), issues);
        v.get_enum("codec", profile.video.codec, {"h264", "hevc", "av1"});
        v.get("crf", profile.video.crf, 0, 63);
        v.get("preset", profile.video.preset);
        v.get_enum("hwaccel", profile.video.hwaccel, {"auto", "none", "qsv", "vaapi", "nvenc"});
        v.get_enum("pix_fmt", profile.video.pix_fmt,
                   {"yuv420p", "yuv420p10le", "yuv422p", "yuv444p"});
        v.finish();
    }
    {
        MapReader a(r.child("audio"), r.child_path("audio"), issues);
        a.get_enum("codec", profile.audio.codec, {"copy", "aac", "opus"});
        a.get("bitrate", profile.audio.bitrate);
        a.finish();
    }
    r.get_enum("container", profile.container, {"mp4", "mkv"});
    r.finish();
}

}  // namespace

std::string format_config_issues(const std::filesystem::path& file,
                                 const std::vector<ConfigIssue>& issues) {
    std::ostringstream out;
    bool first = true;
    for (const auto& issue : issues) {
        if (!first) out << '\n';
        first = false;
        out << (file.empty() ? std::string("<config>") : file.string()) << ':' << issue.mark.line
            << ':' << issue.mark.column << ": " << issue.path << ": " << issue.message;
    }
    return out.str();
}

Result<Config> parse_config_text(const std::string& text, const std::filesystem::path& name) {
    YAML::Node root;
    try {
        root = YAML::Load(text);
    } catch (const YAML::Exception& e) {
        ConfigIssue issue{SourceMark{e.mark.line + 1, e.mark.column + 1}, "(syntax)", e.msg};
        return make_error(Errc::config, format_config_issues(name, {issue}));
    }
    Config cfg;
    cfg.source = name;
    ConfigIssues issues;
    MapReader r(root, "", issues);
    {
        MapReader p(r.child("paths"), "paths", issues);
        p.get_path("state_dir", cfg.paths.state_dir);
        p.get_path("runtime_dir", cfg.paths.runtime_dir);
        p.get_path("models_dir", cfg.paths.models_dir);
        p.finish();
    }
    r.get("workers", cfg.workers, 0, 1024);
    r.get("chunk_seconds", cfg.chunk_seconds, 0.5, 3600.0);
    r.get_enum("log_level", cfg.log_level, {"trace", "debug", "info", "warn", "error"});
    {
        MapReader l(r.child("limits"), "limits", issues);
        l.get("max_pixels", cfg.limits.max_pixels, 1, int64_t{1} << 40);
        l.get("decode_error_ratio", cfg.limits.decode_error_ratio, 0.0, 1.0);
        l.finish();
    }
    const YAML::Node profiles = r.child("profiles");
    if (profiles && !profiles.IsNull()) {
        if (!profiles.IsMap()) {
            issues.add(profiles, "profiles", "expected a mapping of profile names");
        } else {
            for (const auto& kv : profiles) {
                auto pname = kv.first.as<std::string>();
                if (pname == "by-folder") {
                    issues.add(kv.first, "profiles." + pname,
                               "'by-folder' is reserved for watches");
                    continue;
                }
                read_profile(pname, kv.second, issues, cfg.profiles[pname]);
            }
        }
    }
    r.finish();
    if (!issues.empty()) return make_error(Errc::config, format_config_issues(name, issues.all()));
    return cfg;
}

Result<Config> load_config_file(const std::filesystem::path& file) {
    std::ifstream in(file);
    if (!in) return make_error(Errc::config, file.string() + ": cannot open config file");
    std::stringstream buffer;
    buffer << in.rdbuf();
    RR_ASSIGN(Config cfg, parse_config_text(buffer.str(), file));
    // A relative models_dir belongs to the file that names it (the source tree's config
    // points at the source tree's models/), not to whatever directory the daemon runs in.
    if (cfg.paths.models_dir.is_relative()) {
        std::error_code ec;
        const auto base = std::filesystem::absolute(file, ec).parent_path();
        cfg.paths.models_dir = (base / cfg.paths.models_dir).lexically_normal();
    }
    return cfg;
}

std::optional<std::filesystem::path> default_config_path() {
    if (const char* env = std::getenv("RENDERRUSH_CONFIG"); env && *env)
        return std::filesystem::path(env);
    for (const char* candidate : {"config/renderrush.yaml", "/etc/renderrush/renderrush.yaml"}) {
        std::error_code ec;
        if (std::filesystem::exists(candidate, ec)) return std::filesystem::path(candidate);
    }
    return std::nullopt;
}

}  // namespace rr
