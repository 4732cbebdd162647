#pragma once
// One job from input file to published output, split into the steps both the one-shot
// command and the daemon drive: prepare (probe, validate, index, plan, configure stages and
// encoder), analyse (whole-video statistics for stages that need them), run chunks, run
// audio, assemble. A PreparedJob is read-only while chunks run on several threads.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <stop_token>
#include <vector>

#include "core/atomic_file.h"
#include "core/logging.h"
#include "core/result.h"
#include "media/assembler.h"
#include "media/audio_track.h"
#include "media/chunk_plan.h"
#include "media/encoder.h"
#include "media/frame_index.h"
#include "media/interlace.h"
#include "media/mapped_file.h"
#include "media/probe.h"
#include "pipeline/job_settings.h"
#include "pipeline/progress.h"
#include "stages/stage.h"

namespace rr::pipeline {

struct ChunkOutcome {
    int index = 0;
    int64_t frames = 0;
    // Timestamps (index time base) of this chunk's frames that no picture came out for
    // (replaced by a neighbour) and of those the decoder delivered with concealed errors.
    std::vector<int64_t> lost;
    std::vector<int64_t> damaged;
    double seconds = 0;
    int64_t bytes = 0;
    std::vector<nlohmann::json> stage_results;  // one per stage
    std::string node;  // cluster mode: the node that produced it (sidecar chunks[].node)
    // Wall clock, Unix seconds (0: not recorded, as in outcomes stored by older versions).
    double started_at = 0, finished_at = 0;
};

struct PreparedJob {
    std::filesystem::path input;
    JobSettings settings;
    int workers = 1;  // this node's
    int threads_per_worker = 1;
    // The workers its chunks were cut for: the farm's in cluster mode (settings.plan_workers).
    [[nodiscard]] int plan_workers() const {
        return settings.plan_workers > 0 ? settings.plan_workers : workers;
    }
    media::MappedFile file;
    media::MediaInfo info;
    int video_stream = -1;
    media::FrameIndex index;
    std::vector<media::ChunkSpan> chunks;
    stages::FrameRange kept;     // frames the output keeps (all, unless a stage trims)
    media::FrameFormat decoded;  // as the decoder delivers it
    media::FrameFormat working;  // what the first stage receives
    media::FrameFormat encoded;  // what the last stage emits
    bool cropped_to_even = false;
    // Detected fields and what is done about them (video.interlace). When deinterlacing, bwdif
    // runs on decoded frames before the converter; with field rate the working time base is
    // half the index's and every frame becomes two.
    media::InterlacePlan interlace;
    std::vector<std::unique_ptr<stages::Stage>> stages;
    media::EncoderChoice encoder;
    media::AudioPlan audio;
    std::filesystem::path work_dir;  // intermediates; set by whoever runs the job
    nlohmann::json timings = nlohmann::json::object();
    // What each analysing stage's chunks reported ({"<stage index>": [per chunk]}), so a
    // worker process can restore the stages' decisions without analysing again.
    nlohmann::json analysis = nlohmann::json::object();
    LoggerPtr logger;

    // Frames decoded before / after each chunk for the first `upto` stages (all by default).
    [[nodiscard]] int preroll(size_t upto = SIZE_MAX) const;
    [[nodiscard]] int postroll(size_t upto = SIZE_MAX) const;
    [[nodiscard]] int64_t total_frames() const { return static_cast<int64_t>(index.frames()); }
    [[nodiscard]] bool trimmed() const { return kept.first > 0 || kept.end < total_frames(); }
    // Frames the chunks will encode (total_frames() less any trimmed, twice that at field rate).
    [[nodiscard]] int64_t output_frames() const;
    // An index timestamp in the working time base (INT64_MAX, "no end", stays so).
    [[nodiscard]] int64_t working_pts(int64_t index_pts) const;
};

// What an earlier prepare_job of the same input found, so a later process can skip the
// checksum and the frame index.
struct PrepareHints {
    std::string checksum;
    media::FrameIndex index;
    // What the first prepare found about the fields: idet decodes a sample, too much to repeat
    // in every chunk worker. Absent: detect again.
    std::optional<media::InterlaceDetection> interlace;
};

// Opens, checksums, probes and validates the input, indexes it and plans everything.
// Errors are one line naming the reason (the caller adds the file name).
[[nodiscard]] Result<std::unique_ptr<PreparedJob>> prepare_job(const std::filesystem::path& input,
                                                               const JobSettings& settings,
                                                               const LoggerPtr& logger,
                                                               const PrepareHints* hints = nullptr);

// Detects whether the input is interlaced and plans what video.interlace asks for (sets
// `interlace`; under keep, pins the encoder to libx264). Called once the index exists.
// `known`: an earlier detection of the same input, used instead of detecting again.
[[nodiscard]] Status decide_interlace(PreparedJob& job, AVFieldOrder stream_order,
                                      const media::InterlaceDetection* known = nullptr);
// Refuses stage chains the interlace plan cannot honour (field rate with whole-video analysis,
// a height change under keep). Called once the stages are configured.
[[nodiscard]] Status check_interlace_chain(const PreparedJob& job);

// (Re)plans the job's chunks, preferring `cuts` (sorted frame indices) as boundaries, over the
// kept frames only, and shares the workers' core budget out among the chunks that run at once.
void plan_job_chunks(PreparedJob& job, std::span<const int64_t> cuts);

// Checks a profile's stages and settings without an input (config validation).
[[nodiscard]] Status validate_profile(const Profile& profile,
                                      const std::filesystem::path& models_dir);

// Runs the whole-video analysis of every stage that has one, chunk-parallel via `run_parallel`,
// then applies what the stages decided: preferred cuts and trimming (chunks, audio).
using ParallelFor =
    std::function<Status(size_t count, const std::function<Status(size_t, std::stop_token)>&)>;
[[nodiscard]] Status analyse_job(PreparedJob& job, const ParallelFor& run_parallel);
// Hands recorded analysis results (`job.analysis`, from an earlier analyse_job) to the stages
// and applies their decisions again, without decoding.
[[nodiscard]] Status restore_analysis(PreparedJob& job);

// Decodes, processes and encodes one chunk into `out` (a NUT file, written atomically).
[[nodiscard]] Result<ChunkOutcome> run_chunk(const PreparedJob& job, int chunk,
                                             const std::filesystem::path& out, Progress* progress,
                                             std::stop_token stop);

struct AudioOutcome {
    bool written = false;                       // false when the input has no usable audio
    media::AudioPlan plan;                      // as run: the audio stages' chains filled in
    std::vector<nlohmann::json> stage_results;  // per stage; null for stages without audio
    double seconds = 0;                         // the audio task's own time (beside the chunks)
};

// Writes the job's audio intermediate, running the audio stages' measurements around it.
[[nodiscard]] Result<AudioOutcome> run_audio(const PreparedJob& job,
                                             const std::filesystem::path& out,
                                             std::stop_token stop);

// Each stage's sidecar `result`, merged from every chunk's contribution, in stage order.
// Audio stages' results come from the audio pass, when given.
[[nodiscard]] std::vector<nlohmann::json> summarize_stages(const PreparedJob& job,
                                                           const std::vector<ChunkOutcome>& chunks,
                                                           const AudioOutcome* audio = nullptr);

// Joins chunk files and audio into the output (written atomically). A stage may replace the
// source's chapters, given its summarized result.
[[nodiscard]] Result<media::AssemblyReport> assemble_job(
    const PreparedJob& job, const std::vector<std::filesystem::path>& chunk_files,
    const std::optional<std::filesystem::path>& audio_file,
    const std::vector<nlohmann::json>& stage_results, const std::filesystem::path& output);

// Lets stages write their accompanying files beside `output`, staged under temporary names
// (fsynced) for the caller to put in place together with the output.
[[nodiscard]] Result<std::vector<TempFile>> stage_extras(
    const PreparedJob& job, const std::vector<nlohmann::json>& stage_results,
    const std::filesystem::path& output);

// Lost frames allowed before the job fails.
[[nodiscard]] int64_t decode_error_budget(const PreparedJob& job);

}  // namespace rr::pipeline
