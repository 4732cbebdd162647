#include "core/config.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "core/paths.h"
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

// A command line as a YAML list of strings: [clamdscan, --no-summary, "{input}"].
void read_argv(const YAML::Node& node, const std::string& path, ConfigIssues& issues,
               std::vector<std::string>& out) {
    if (!node) return;
    if (!node.IsSequence() || node.size() == 0) {
        issues.add(node, path, "expected a non-empty list: the program and its arguments");
        return;
    }
    for (size_t i = 0; i < node.size(); ++i) {
        if (!node[i].IsScalar()) {
            issues.add(node[i], path + "[" + std::to_string(i) + "]", "expected a string");
            return;
        }
        out.push_back(node[i].as<std::string>());
    }
}

void read_hooks(const YAML::Node& node, const std::string& path, ConfigIssues& issues,
                Hooks& hooks) {
    MapReader r(node, path, issues);
    if (!node || !r.valid()) return;
    read_argv(r.child("before"), r.child_path("before"), issues, hooks.before);
    read_argv(r.child("after_success"), r.child_path("after_success"), issues, hooks.after_success);
    read_argv(r.child("after_failure"), r.child_path("after_failure"), issues, hooks.after_failure);
    r.get("timeout_seconds", hooks.timeout_seconds, 0.1, 86400.0);
    r.finish();
}

void read_profile(const std::string& name, const YAML::Node& node, ConfigIssues& issues,
                  Profile& profile) {
    const std::string path = "profiles." + name;
    profile.name = name;
    MapReader r(node, path, issues);
    // Where settings were written, for problems only found later (an encoder refusing them).
    profile.marks["profile"] = mark_of(node);
    if (node.IsMap()) {
        if (const YAML::Node video = node["video"]; video && video.IsMap()) {
            profile.marks["video"] = mark_of(video);
            for (const auto& kv : video)
                profile.marks["video." + kv.first.as<std::string>()] = mark_of(kv.second);
        }
    }
    read_stages(r.child("stages"), r.child_path("stages"), issues, profile.stages);
    {
        MapReader v(r.child("video"), r.child_path("video"), issues);
        v.get_choice("codec", profile.video.codec);
        v.get("crf", profile.video.crf, 0, 63);
        v.get("preset", profile.video.preset);
        v.get_choice("hwaccel", profile.video.hwaccel);
        v.get_enum("pix_fmt", profile.video.pix_fmt,
                   {"yuv420p", "yuv420p10le", "yuv422p", "yuv444p"});
        v.get_choice("interlace", profile.video.interlace);
        v.get_choice("deinterlace_rate", profile.video.deinterlace_rate);
        v.finish();
    }
    {
        MapReader a(r.child("audio"), r.child_path("audio"), issues);
        a.get_choice("codec", profile.audio.codec);
        a.get("bitrate", profile.audio.bitrate);
        a.finish();
    }
    r.get_choice("container", profile.container);
    read_hooks(r.child("hooks"), r.child_path("hooks"), issues, profile.hooks);
    r.finish();
}

void read_watches(const YAML::Node& node, ConfigIssues& issues, Config& cfg) {
    if (!node) return;
    if (!node.IsSequence()) {
        issues.add(node, "watches", "expected a list of watches");
        return;
    }
    for (size_t i = 0; i < node.size(); ++i) {
        const std::string path = "watches[" + std::to_string(i) + "]";
        Watch w;
        w.mark = mark_of(node[i]);
        MapReader r(node[i], path, issues);
        if (!r.valid()) {
            if (node[i].IsDefined() && !node[i].IsMap()) continue;
        }
        r.get_path("path", w.path);
        r.get("profile", w.profile);
        r.get("default_profile", w.default_profile);
        r.get_path("output", w.output);
        r.get("recursive", w.recursive);
        r.get("settle_seconds", w.settle_seconds, 0.0, 86400.0);
        r.get_choice("on_success", w.on_success);
        r.get_choice("on_failure", w.on_failure, {Disposition::move, Disposition::keep});
        r.get("priority", w.priority, -1000, 1000);
        r.get_path("done_dir", w.done_dir);
        r.get_path("failed_dir", w.failed_dir);
        read_hooks(r.child("hooks"), r.child_path("hooks"), issues, w.hooks);
        r.finish();
        if (w.path.empty()) issues.add(w.mark, path + ".path", "a watch needs a path");
        if (w.output.empty())
            issues.add(w.mark, path + ".output", "a watch needs an output folder");
        if (w.profile.empty())
            issues.add(w.mark, path + ".profile", "a watch needs a profile (or by-folder)");
        const auto parent = w.path.lexically_normal().parent_path();
        if (w.done_dir.empty()) w.done_dir = parent / "done";
        if (w.failed_dir.empty()) w.failed_dir = parent / "failed";
        cfg.watches.push_back(std::move(w));
    }
}

// Cross-checks that need the whole file: profile names, and folders that would feed a watch
// its own outputs.
void check_watches(const Config& cfg, ConfigIssues& issues) {
    for (size_t i = 0; i < cfg.watches.size(); ++i) {
        const Watch& w = cfg.watches[i];
        const std::string path = "watches[" + std::to_string(i) + "]";
        if (!w.profile.empty() && w.profile != "by-folder" && !cfg.profiles.count(w.profile)) {
            issues.add(w.mark, path + ".profile", "no profile named '" + w.profile + "'");
        }
        // The implicit "default" may be missing: files at the top are then left alone, with a
        // warning; a name someone wrote must exist.
        if (w.profile == "by-folder" && w.default_profile != "default" &&
            !cfg.profiles.count(w.default_profile)) {
            issues.add(w.mark, path + ".default_profile",
                       "no profile named '" + w.default_profile + "'");
        }
        for (const Watch& other : cfg.watches) {
            if (w.path.empty()) break;
            for (const auto& [what, dir] : {std::pair{"output", other.output},
                                            {"done_dir", other.done_dir},
                                            {"failed_dir", other.failed_dir}}) {
                if (!dir.empty() && path_within(dir, w.path)) {
                    issues.add(w.mark, path + ".path",
                               std::string("contains a watch's ") + what + " (" + dir.string() +
                                   "): outputs would be taken as new inputs");
                }
            }
            if (&other != &w && other.path.lexically_normal() == w.path.lexically_normal()) {
                issues.add(w.mark, path + ".path", "folder watched twice");
                break;
            }
        }
    }
}

// In cluster mode any node may run a job's tasks, join it and publish it, so a job's input and
// output must be on the share: under storage.root, where every node maps the paths the queue
// records. A folder outside it would leave its jobs unreachable to the others; refused here
// rather than run some other way.
void check_cluster_paths(const Config& cfg, const YAML::Node& roots_node,
                         const YAML::Node& output_node, ConfigIssues& issues) {
    if (!cfg.cluster) return;
    const auto& root = cfg.storage.root;
    auto outside = [&](const std::filesystem::path& p) {
        return !p.empty() && !relative_under(root, p);
    };
    auto why = [&](const std::filesystem::path& p) { return outside_storage_root(p, root); };
    for (size_t i = 0; i < cfg.watches.size(); ++i) {
        const Watch& w = cfg.watches[i];
        const std::string path = "watches[" + std::to_string(i) + "]";
        if (outside(w.path)) issues.add(w.mark, path + ".path", why(w.path));
        if (outside(w.output)) issues.add(w.mark, path + ".output", why(w.output));
    }
    for (size_t i = 0; i < cfg.submit_roots.size(); ++i) {
        if (outside(cfg.submit_roots[i]))
            issues.add(roots_node, "submit_roots[" + std::to_string(i) + "]",
                       why(cfg.submit_roots[i]));
    }
    if (outside(cfg.submit_output))
        issues.add(output_node, "submit_output", why(cfg.submit_output));
}

std::string host_name() {
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) != 0) return "localhost";
    return host;
}

void read_cluster(MapReader& r, ConfigIssues& issues, Config& cfg) {
    {
        MapReader s(r.child("storage"), "storage", issues);
        s.get_path("root", cfg.storage.root);
        s.finish();
    }
    const YAML::Node node = r.child("cluster");
    if (!node) return;
    MapReader c(node, "cluster", issues);
    if (!c.valid()) return;
    ClusterSettings cl;
    cl.mark = mark_of(node);
    c.get("database", cl.database);
    c.get("node_id", cl.node_id);
    c.get("lease_seconds", cl.lease_seconds, 0.5, 86400.0);
    c.get("heartbeat_seconds", cl.heartbeat_seconds, 0.1, 3600.0);
    c.get_path("work_dir", cl.work_dir);
    c.get("poll_seconds", cl.poll_seconds, 0.1, 3600.0);
    c.get("retention_days", cl.retention_days, 0.0, 36500.0);
    c.finish();
    if (cl.database.empty())
        issues.add(node, "cluster.database",
                   "required: a libpq conninfo, a postgresql:// URI or sqlite:PATH");
    // A relative file would follow each daemon's working folder: nodes meant to share one
    // queue would each open their own.
    else if (cl.database.starts_with("sqlite:") &&
             !std::string_view(cl.database)
                  .substr(cl.database.starts_with("sqlite://") ? 9 : 7)
                  .starts_with('/'))
        issues.add(c.child("database"), "cluster.database",
                   "a SQLite queue needs an absolute path: sqlite:/var/lib/renderrush/queue.db");
    if (cl.work_dir.empty())
        issues.add(node, "cluster.work_dir", "required: a folder on the shared storage");
    else if (cl.work_dir.is_relative())
        issues.add(c.child("work_dir"), "cluster.work_dir", "must be an absolute path");
    if (cl.heartbeat_seconds >= cl.lease_seconds)
        issues.add(c.child("heartbeat_seconds") ? c.child("heartbeat_seconds") : node,
                   "cluster.heartbeat_seconds",
                   "must be shorter than lease_seconds, or leases expire between renewals");
    if (cl.node_id.empty()) cl.node_id = host_name();
    cfg.cluster = std::move(cl);
}

}  // namespace

const std::vector<std::string>& default_extensions() {
    static const std::vector<std::string> kExtensions = {"mp4", "m4v",  "mov", "mkv", "webm", "avi",
                                                         "mpg", "mpeg", "ts",  "mts", "m2ts", "mxf",
                                                         "wmv", "flv",  "3gp", "ogv", "y4m",  "dv"};
    return kExtensions;
}

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
        l.get_enum("truncated", cfg.limits.truncated, {"process", "fail"});
        l.get("worker_memory_mb", cfg.limits.worker_memory_mb, 0, int64_t{1} << 30);
        l.get("worker_seconds_per_chunk", cfg.limits.worker_seconds_per_chunk, 0.0, 86400.0);
        l.finish();
    }
    r.get("max_concurrent_jobs", cfg.max_concurrent_jobs, 1, 64);
    r.get("max_attempts", cfg.max_attempts, 1, 100);
    r.get("dedupe", cfg.dedupe);
    r.get("rescan_seconds", cfg.rescan_seconds, 1.0, 86400.0);
    r.get("min_free_mb", cfg.min_free_mb, 0, int64_t{1} << 40);
    r.get("stop_timeout_seconds", cfg.stop_timeout_seconds, 0.0, 3600.0);
    if (const YAML::Node ext = r.child("allowed_extensions")) {
        if (!ext.IsSequence()) {
            issues.add(ext, "allowed_extensions", "expected a list such as [mp4, mov, mkv]");
        } else {
            for (const auto& e : ext) {
                std::string v = e.as<std::string>();
                if (!v.empty() && v.front() == '.') v.erase(0, 1);
                for (auto& c : v)
                    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
                cfg.allowed_extensions.push_back(v);
            }
        }
    }
    read_watches(r.child("watches"), issues, cfg);
    {
        MapReader c(r.child("control"), "control", issues);
        c.get("group", cfg.control.group);
        c.get("admin_group", cfg.control.admin_group);
        c.get("max_connections", cfg.control.max_connections, 1, 10000);
        c.get("idle_timeout_seconds", cfg.control.idle_timeout_seconds, 1.0, 86400.0);
        c.get("max_subscriber_backlog_kb", cfg.control.max_subscriber_backlog_kb, 1, 1 << 20);
        c.finish();
    }
    {
        MapReader m(r.child("metrics"), "metrics", issues);
        // Debian's prometheus-node-exporter reads *.prom from this folder; "" turns it off.
        cfg.metrics.textfile_path = "/var/lib/prometheus/node-exporter/renderrush.prom";
        m.get_path("textfile_path", cfg.metrics.textfile_path);
        m.get("interval_seconds", cfg.metrics.interval_seconds, 1.0, 3600.0);
        m.finish();
    }
    {
        MapReader w(r.child("web"), "web", issues);
        w.get("enabled", cfg.web.enabled);
        w.get("listen", cfg.web.listen);
        w.get_path("token_file", cfg.web.token_file);
        w.get_path("root", cfg.web.root);
        w.get("max_connections", cfg.web.max_connections, 1, 100000);
        w.finish();
        if (cfg.web.token_file.empty()) cfg.web.token_file = cfg.paths.state_dir / "web.token";
    }
    read_cluster(r, issues, cfg);
    if (const YAML::Node roots = r.child("submit_roots")) {
        if (!roots.IsSequence())
            issues.add(roots, "submit_roots", "expected a list of folders");
        else
            for (const auto& p : roots) cfg.submit_roots.push_back(p.as<std::string>());
    }
    r.get_path("submit_output", cfg.submit_output);
    const YAML::Node profiles = r.child("profiles");
    if (profiles && !profiles.IsNull()) {
        if (!profiles.IsMap()) {
            issues.add(profiles, "profiles", "expected a mapping of profile names");
        } else {
            report_duplicate_keys(profiles, "profiles", issues);
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
    const YAML::Node roots_node = r.child("submit_roots");
    const YAML::Node output_node = r.child("submit_output");
    r.finish();
    check_watches(cfg, issues);
    check_cluster_paths(cfg, roots_node, output_node, issues);
    if (cfg.allowed_extensions.empty()) cfg.allowed_extensions = default_extensions();
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
