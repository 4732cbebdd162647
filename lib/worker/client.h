#pragma once
// The daemon's and `renderrushd process`'s side of the worker processes: one blocking call
// per task kind, run on a scheduler thread. Each starts a confined worker, passes it what the
// task needs and returns what it did; a worker that crashes, hangs or runs out of memory
// fails only that call, with the reason.

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <stop_token>
#include <string>

#include "core/atomic_file.h"
#include "core/result.h"
#include "pipeline/job_settings.h"
#include "pipeline/progress.h"

namespace rr::worker {

class Zygote;

// One job as every worker sees it. `settings.work_dir` holds the intermediates and the plan.
struct JobSpec {
    std::filesystem::path input;
    pipeline::JobSettings settings;
    std::string log_level = "info";
    std::filesystem::path exe = "/proc/self/exe";  // the renderrushd that runs workers
    Zygote* zygote = nullptr;  // forks them cheaply; nullptr: posix_spawn `exe` each time
};

struct ChunkSpan {
    int index = 0;
    int64_t first_frame = 0, frames = 0;
    double start_time = 0, end_time = 0;
};

// What the prepare worker decided (the plan itself stays in the work folder).
struct PlanSummary {
    std::string checksum;
    int64_t frames = 0;         // input frames
    int64_t output_frames = 0;  // frames the chunks encode
    std::vector<ChunkSpan> chunks;
    bool audio = false;  // the plan has an audio task
    std::string encoder;
    nlohmann::json interlace;  // media::InterlacePlan::to_json: what was detected and done
    std::string log;           // one line for the log: frames, chunks, threads, encoder
};

// A chunk or audio intermediate, durable in the work folder.
struct TaskFile {
    std::optional<std::string> file, checksum;  // empty when the audio task wrote nothing
    int64_t bytes = 0;
    nlohmann::json outcome;  // pipeline::to_json(ChunkOutcome | AudioOutcome)
};

struct PublishSpec {
    std::filesystem::path output;
    std::string profile_name;
    std::vector<nlohmann::json> chunks;  // each chunk's outcome, in order
    nlohmann::json audio;                // the audio outcome, or null
    bool audio_written = false;
    nlohmann::json timings = nlohmann::json::object();
    nlohmann::json retried = nlohmann::json::array();
    double elapsed = 0;       // seconds the job has run so far (for timings.total)
    bool frame_pair = false;  // the dashboard's before/after pictures in <output>.frames/
    // Cluster mode: the intermediates as the queue recorded them (empty: the work folder's
    // usual names), and an output and sidecar left staged under temporary names for the
    // daemon to record in the queue and then publish (pipeline::PublishRequest::stage_only).
    std::vector<std::filesystem::path> chunk_files;
    std::optional<std::filesystem::path> audio_file;
    bool stage_only = false;
};

struct PublishResult {
    nlohmann::json sidecar;
    std::filesystem::path sidecar_path;
    // stage_only: temporary siblings of the output, of sidecar_path and of accompanying files
    // (pipeline::accompanying_paths), checked to be so.
    std::filesystem::path staged_output, staged_sidecar;
    std::vector<StagedPath> staged_extras;
};

// The worker process failed (a signal, a limit, a broken conversation), as opposed to the
// task refusing the input: worth another attempt.
[[nodiscard]] bool is_worker_failure(const Error& e);

[[nodiscard]] Result<PlanSummary> run_prepare(const JobSpec& job, std::stop_token stop);
// prepare_job only, in a worker that may write nothing: `process --dry-run`'s plan
// (source, output_size, stages, video, audio_streams, workers, threads_per_worker, chunks).
[[nodiscard]] Result<nlohmann::json> run_dry_run(const JobSpec& job, std::stop_token stop);
// `file`: where the intermediate goes (empty: the work folder's usual name). Cluster nodes
// name it by lease epoch, so a fenced-off node never writes over the file of the one that
// took its lease over.
[[nodiscard]] Result<TaskFile> run_chunk(const JobSpec& job, int chunk,
                                         pipeline::Progress* progress, std::stop_token stop,
                                         const std::filesystem::path& file = {});
[[nodiscard]] Result<TaskFile> run_audio(const JobSpec& job, int chunks, std::stop_token stop,
                                         const std::filesystem::path& file = {});
[[nodiscard]] Result<PublishResult> run_publish(const JobSpec& job, const PublishSpec& spec,
                                                std::stop_token stop);

}  // namespace rr::worker
