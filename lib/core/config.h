#pragma once
// The daemon's configuration: parsed from YAML, validated, with every problem reported with
// its line and column. Unknown keys are errors so typos never silently fall back to defaults.

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/choices.h"
#include "core/result.h"
#include "core/stage_spec.h"

namespace rr {

struct VideoSettings {
    VideoCodec codec = VideoCodec::h264;  // h264 | hevc | av1 | vp9
    int crf = -1;                   // -1: the codec's default (h264 23, hevc 28, av1 35, vp9 31)
    std::string preset = "medium";  // x264/x265 names; mapped to SVT-AV1 numbers for av1
    HwAccel hwaccel = HwAccel::automatic;
    std::string pix_fmt;  // empty: yuv420p (8-bit input) or yuv420p10le (deep input, hevc/av1)
    // Interlaced input: deinterlace when detected (auto), always, or encode interlaced (keep).
    Interlace interlace = Interlace::automatic;
    DeinterlaceRate deinterlace_rate = DeinterlaceRate::frame;  // field: one frame per field
};

struct AudioSettings {
    AudioCodec codec = AudioCodec::copy;
    std::string bitrate = "160k";
};

// Programs run around a job (argv, no shell; "{input}" and friends are filled in per job).
struct Hooks {
    std::vector<std::string> before;         // non-zero exit: the job fails with its stderr
    std::vector<std::string> after_success;  // done, done_with_warnings, duplicate
    std::vector<std::string> after_failure;  // failed, cancelled
    double timeout_seconds = 60;             // then the hook's process group is killed
};

struct Profile {
    std::string name;
    std::vector<StageSpec> stages;
    VideoSettings video;
    AudioSettings audio;
    Container container = Container::mp4;  // mp4 | mkv | webm
    Hooks hooks;                           // run after the watch's
    // Where the profile and its video settings were written ("profile", "video",
    // "video.preset", ...), for problems found after parsing, such as an encoder refusing them.
    std::map<std::string, SourceMark> marks;
};

struct Limits {
    int64_t max_pixels = 8192LL * 4320LL;  // per frame; larger inputs are refused
    // Share of frames that may be lost (no picture came out) before a job fails. Like the
    // ffmpeg CLI, which delivers as long as the decoder does: 10 % matches its "most frames".
    double decode_error_ratio = 0.1;
    std::string truncated = "process";      // process | fail: a file cut short
    int64_t worker_memory_mb = 8192;        // a worker's address space beyond the input; 0: none
    double worker_seconds_per_chunk = 600;  // a worker running longer is killed; 0: no limit
};

struct Paths {
    std::filesystem::path state_dir = "/var/lib/renderrush";
    std::filesystem::path runtime_dir = "/run/renderrush";
    std::filesystem::path models_dir = "/usr/share/renderrush/models";
};

// A watched folder. Files that settle there become jobs.
struct Watch {
    std::filesystem::path path;
    std::string profile;  // a profile name, or "by-folder" (first subfolder names it)
    std::string default_profile = "default";  // by-folder: for files at the top of the watch
    std::filesystem::path output;             // outputs mirror the input's path below the watch
    bool recursive = true;
    double settle_seconds = 5;  // size and mtime unchanged this long before a file is taken
    Disposition on_success = Disposition::move;
    Disposition on_failure = Disposition::move;  // move | keep (never delete a failed source)
    int priority = 0;                            // higher runs first
    std::filesystem::path done_dir;              // default: "done" beside the watched folder
    std::filesystem::path failed_dir;            // default: "failed" beside the watched folder
    Hooks hooks;                                 // run before the profile's
    SourceMark mark;
};

struct ControlSettings {
    std::string group = "renderrush";  // the socket's group: members may run read-only commands
    std::string admin_group;  // members may also run submit/cancel/retry/pause/resume/reload
    int max_connections = 64;
    double idle_timeout_seconds = 300;
    int64_t max_subscriber_backlog_kb = 4096;  // queued events before a slow subscriber is dropped
};

struct MetricsSettings {
    std::filesystem::path textfile_path;  // node_exporter textfile collector target ("" = off)
    double interval_seconds = 15;
};

// The web dashboard (docs/WEB.md).
struct WebSettings {
    bool enabled = false;
    std::string listen = "127.0.0.1:8573";  // host:port for TCP ("" = only web.sock)
    std::filesystem::path token_file;       // "" = <state_dir>/web.token
    std::filesystem::path root = "/usr/share/renderrush/web";  // the pages
    int max_connections = 256;                                 // HTTP and WebSocket together
};

// Cluster mode (docs/CLUSTER.md): present only when the config has a `cluster:` section.
struct ClusterSettings {
    std::string database;  // any libpq conninfo or URI, or sqlite:PATH (required)
    std::string node_id;   // default: the host name
    double lease_seconds = 60;
    double heartbeat_seconds = 10;
    std::filesystem::path work_dir;  // on the shared storage (required)
    double poll_seconds = 2;
    double retention_days = 7;
    // false: the cluster of one that a node without a `cluster:` section runs on; only
    // service::cluster_of_one (service/layout.h) reads it.
    bool shared = true;
    SourceMark mark;  // where the section starts, for problems found after parsing
};

// Where the shared media lives on this machine; paths in the database are relative to it.
struct StorageSettings {
    std::filesystem::path root = "/srv/renderrush";
};

struct Config {
    std::filesystem::path source;  // file it was read from; empty for built-in defaults
    Paths paths;
    int workers = 0;  // 0: one per core
    double chunk_seconds = 10.0;
    Limits limits;
    std::string log_level = "info";
    std::map<std::string, Profile> profiles;

    // Daemon
    std::vector<Watch> watches;
    int max_concurrent_jobs = 2;
    int max_attempts = 3;              // tries per chunk before the job fails
    bool dedupe = true;                // same content + profile again becomes `duplicate`
    double rescan_seconds = 60;        // full scans for filesystems where inotify is blind
    int64_t min_free_mb = 1024;        // intake pauses below this much free space
    double stop_timeout_seconds = 20;  // SIGTERM: how long running chunks may finish
    std::vector<std::string> allowed_extensions;  // lower case, without the dot

    // Control
    ControlSettings control;
    MetricsSettings metrics;
    WebSettings web;
    std::optional<ClusterSettings> cluster;  // none: single node on SQLite
    StorageSettings storage;
    std::vector<std::filesystem::path>
        submit_roots;                     // besides watches, where `submit` may take files
    std::filesystem::path submit_output;  // outputs of files from submit_roots ("" = beside them)
};

// Video extensions taken from watched folders when the config lists none.
[[nodiscard]] const std::vector<std::string>& default_extensions();

struct ConfigIssue {
    SourceMark mark;
    std::string path;  // e.g. profiles.web.video.crf
    std::string message;
};

// One "file:line:col: path: message" line per issue.
[[nodiscard]] std::string format_config_issues(const std::filesystem::path& file,
                                               const std::vector<ConfigIssue>& issues);

// On failure the error (Errc::config) holds every issue found, one per line.
[[nodiscard]] Result<Config> parse_config_text(const std::string& text,
                                               const std::filesystem::path& name);
[[nodiscard]] Result<Config> load_config_file(const std::filesystem::path& file);

// Which config file applies when none was named: $RENDERRUSH_CONFIG, ./config/renderrush.yaml,
// /etc/renderrush/renderrush.yaml, or none (built-in defaults).
[[nodiscard]] std::optional<std::filesystem::path> default_config_path();

}  // namespace rr
